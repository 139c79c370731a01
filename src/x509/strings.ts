// ASN.1 character strings decoded exactly as the JDK decodes them (Keycloak's identities are JDK strings), so that
// values which OpenSSL or Node refuse (invalid UTF-8, BMPString, T61String, UniversalString…) still render, and render
// the same way as in Keycloak: malformed input becomes U+FFFD, never an exception.
import { TAG } from "./der.ts";

const REPLACEMENT = "\ufffd";

const cont = (b: number) => (b & 0xc0) === 0x80;
const ASCII = new TextDecoder("utf-8");

/**
 * Java's UTF-8 decoding with replacement (java.lang.String.decodeUTF8_UTF16). It differs from WHATWG's decoder in one
 * place that matters here: a UTF-8-encoded surrogate (ED A0 80 …) becomes one U+FFFD, not three.
 */
export function decodeUtf8(b: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) if ((b[i] as number) >= 0x80) { ascii = false; break; }
  if (ascii) return ASCII.decode(b); // identical for ASCII, and native
  const out: number[] = [];
  const R = 0xfffd;
  const n = b.length;
  let p = 0;
  while (p < n) {
    const b1 = b[p++] as number;
    if (b1 < 0x80) {
      out.push(b1);
    } else if ((b1 & 0xe0) === 0xc0 && (b1 & 0x1e) !== 0) {
      if (p >= n) { out.push(R); break; }
      const b2 = b[p] as number;
      if (!cont(b2)) out.push(R);
      else { out.push(((b1 & 0x1f) << 6) | (b2 & 0x3f)); p++; }
    } else if ((b1 & 0xf0) === 0xe0) {
      const overlong = (b2: number) => b1 === 0xe0 && (b2 & 0xe0) === 0x80;
      if (p + 1 < n) {
        const b2 = b[p] as number;
        const b3 = b[p + 1] as number;
        if (overlong(b2) || !cont(b2) || !cont(b3)) {
          out.push(R);
          p += overlong(b2) || !cont(b2) ? 0 : 1;
        } else {
          const c = ((b1 & 0x0f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
          out.push(c >= 0xd800 && c <= 0xdfff ? R : c);
          p += 2;
        }
        continue;
      }
      if (p < n && (overlong(b[p] as number) || !cont(b[p] as number))) { out.push(R); continue; }
      out.push(R);
      break;
    } else if ((b1 & 0xf8) === 0xf0) {
      if (p + 2 < n) {
        const b2 = b[p] as number;
        const b3 = b[p + 1] as number;
        const b4 = b[p + 2] as number;
        const uc = ((b1 & 0x07) << 18) | ((b2 & 0x3f) << 12) | ((b3 & 0x3f) << 6) | (b4 & 0x3f);
        if (!cont(b2) || !cont(b3) || !cont(b4) || uc < 0x10000 || uc > 0x10ffff) {
          out.push(R);
          // Java's malformed4: how many bytes the bad sequence covers.
          if (b1 > 0xf4 || (b1 === 0xf0 && (b2 < 0x90 || b2 > 0xbf)) || (b1 === 0xf4 && (b2 & 0xf0) !== 0x80) || !cont(b2)) p += 0;
          else if (!cont(b3)) p += 1;
          else p += 2;
        } else {
          const v = uc - 0x10000;
          out.push(0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff));
          p += 3;
        }
        continue;
      }
      if (b1 > 0xf4 || (p < n && malformed4of2(b1, b[p] as number))) { out.push(R); continue; }
      p++;
      out.push(R);
      if (p < n && !cont(b[p] as number)) continue;
      break;
    } else {
      out.push(R);
    }
  }
  let s = "";
  for (let i = 0; i < out.length; i += 8192) s += String.fromCharCode(...out.slice(i, i + 8192));
  return s;
}

function malformed4of2(b1: number, b2: number): boolean {
  return (b1 === 0xf0 && (b2 < 0x90 || b2 > 0xbf)) || (b1 === 0xf4 && (b2 & 0xf0) !== 0x80) || !cont(b2);
}

/** Java's US_ASCII: bytes above 0x7f become U+FFFD. */
export function decodeAscii(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    s += c < 0x80 ? String.fromCharCode(c) : REPLACEMENT;
  }
  return s;
}

/** ISO-8859-1: one byte, one character (the JDK reads T61String this way). */
export function decodeLatin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

/**
 * Java's UTF-16BE decoding with replacement (sun.nio.cs.UnicodeDecoder): a high surrogate followed by anything but a
 * low surrogate turns both units into one U+FFFD; a lone low surrogate is U+FFFD; any incomplete tail is one U+FFFD.
 */
export function decodeUtf16be(b: Uint8Array): string {
  let s = "";
  let i = 0;
  const unit = (at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
  while (i + 1 < b.length) {
    const c = unit(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      if (i + 3 >= b.length) break;
      const c2 = unit(i + 2);
      s += c2 >= 0xdc00 && c2 <= 0xdfff ? String.fromCharCode(c, c2) : REPLACEMENT;
      i += 4;
    } else {
      s += c >= 0xdc00 && c <= 0xdfff ? REPLACEMENT : String.fromCharCode(c);
      i += 2;
    }
  }
  if (i < b.length) s += REPLACEMENT;
  return s;
}

/** Java's UTF_32BE: code points above U+10FFFF, surrogates and an incomplete tail become U+FFFD. */
export function decodeUtf32be(b: Uint8Array): string {
  let s = "";
  const n = b.length - (b.length % 4);
  for (let i = 0; i < n; i += 4) {
    const cp = (((b[i] as number) << 24) >>> 0) + ((b[i + 1] as number) << 16) + ((b[i + 2] as number) << 8) + (b[i + 3] as number);
    s += cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? REPLACEMENT : String.fromCodePoint(cp);
  }
  if (b.length % 4) s += REPLACEMENT;
  return s;
}

/**
 * The JDK's DerValue.getAsString(): the text of a string value, or undefined for types the JDK has no string for
 * (NumericString, VisibleString, VideotexString, GraphicString, non-string types). Used by the legacy rendering.
 */
export function jdkString(tag: number, content: Uint8Array): string | undefined {
  switch (tag) {
    case TAG.UTF8_STRING: return decodeUtf8(content);
    case TAG.PRINTABLE_STRING: return decodeAscii(content);
    case TAG.T61_STRING: return decodeLatin1(content);
    case TAG.IA5_STRING: return decodeAscii(content);
    case TAG.UNIVERSAL_STRING: return decodeUtf32be(content);
    case TAG.BMP_STRING: return decodeUtf16be(content);
    case TAG.GENERAL_STRING: return decodeAscii(content);
    default: return undefined;
  }
}

/**
 * The text of any string type, for x509-idp's own values (CN, e-mail): as jdkString, and VisibleString, NumericString
 * and the other ISO 646 types as ASCII. Undefined for non-string types.
 */
export function stringValue(tag: number, content: Uint8Array): string | undefined {
  const s = jdkString(tag, content);
  if (s !== undefined) return s;
  switch (tag) {
    case TAG.VISIBLE_STRING:
    case TAG.NUMERIC_STRING:
    case TAG.GRAPHIC_STRING:
    case TAG.VIDEOTEX_STRING:
      return decodeAscii(content);
    default:
      return undefined;
  }
}

/** Java's String.trim(): drops characters up to U+0020 at both ends. */
export function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}
