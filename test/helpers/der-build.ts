// DER encoding for test fixtures: names with any string type (including invalid contents), extensions and whole
// certificates, built byte by byte so the tests control exactly what the parser sees.
import { ATTR } from "../../src/x509/oids.ts";

export type Bytes = Uint8Array;

export function concat(...parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function length(n: number): Bytes {
  if (n < 0x80) return Uint8Array.of(n);
  const b: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) b.unshift(v % 256);
  return Uint8Array.of(0x80 | b.length, ...b);
}

/** A TLV with a one-byte identifier. */
export const tlv = (id: number, content: Bytes): Bytes => concat(Uint8Array.of(id), length(content.length), content);
export const seq = (...items: Bytes[]) => tlv(0x30, concat(...items));
export const set = (...items: Bytes[]) => tlv(0x31, concat(...items));
/** [n] EXPLICIT (constructed context tag). */
export const explicit = (n: number, inner: Bytes) => tlv(0xa0 | n, inner);
/** [n] IMPLICIT primitive. */
export const implicit = (n: number, content: Bytes) => tlv(0x80 | n, content);
export const octets = (content: Bytes) => tlv(0x04, content);
export const bool = (v: boolean) => tlv(0x01, Uint8Array.of(v ? 0xff : 0));
export const nul = () => Uint8Array.of(0x05, 0x00);

export function oid(dotted: string): Bytes {
  const arcs = dotted.split(".").map((a) => BigInt(a));
  const first = (arcs[0] ?? 0n) * 40n + (arcs[1] ?? 0n);
  const body: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i] = (chunk[i] as number) | 0x80;
    body.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(body));
}

/** Minimal two's-complement INTEGER. */
export function integer(n: bigint | number): Bytes {
  let v = BigInt(n);
  const bytes: number[] = [];
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const rest = v >> 8n;
    const sign = (bytes[0] as number) & 0x80;
    if ((rest === 0n && !sign) || (rest === -1n && sign)) break;
    v = rest;
  }
  return tlv(0x02, Uint8Array.from(bytes));
}

export const bitString = (bytes: Bytes, unused = 0) => tlv(0x03, concat(Uint8Array.of(unused), bytes));

export function utcTime(d: Date): Bytes {
  const s = d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  return tlv(0x17, new TextEncoder().encode(s));
}
export function generalizedTime(d: Date): Bytes {
  const s = d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
  return tlv(0x18, new TextEncoder().encode(s));
}
/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
export const time = (d: Date) => (d.getUTCFullYear() < 2050 ? utcTime(d) : generalizedTime(d));

// ---- strings ---------------------------------------------------------------------------------------------------

export type StringType = "utf8" | "printable" | "ia5" | "t61" | "bmp" | "universal" | "visible" | "general" | "numeric" | "videotex" | "graphic";

export const STRING_TAG: Record<StringType, number> = {
  utf8: 12, numeric: 18, printable: 19, t61: 20, videotex: 21, ia5: 22, graphic: 25, visible: 26, general: 27, universal: 28, bmp: 30,
};

export function encodeText(type: StringType, text: string): Bytes {
  switch (type) {
    case "utf8":
      return new TextEncoder().encode(text);
    case "bmp": {
      const out = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) {
        out[2 * i] = text.charCodeAt(i) >> 8;
        out[2 * i + 1] = text.charCodeAt(i) & 0xff;
      }
      return out;
    }
    case "universal": {
      const cps = [...text].map((c) => c.codePointAt(0) ?? 0);
      const out = new Uint8Array(cps.length * 4);
      cps.forEach((cp, i) => new DataView(out.buffer).setUint32(i * 4, cp));
      return out;
    }
    default:
      return Uint8Array.from([...text].map((c) => (c.codePointAt(0) ?? 0) & 0xff));
  }
}

export const str = (type: StringType, text: string) => tlv(STRING_TAG[type], encodeText(type, text));
export const utf8 = (s: string) => str("utf8", s);
export const printable = (s: string) => str("printable", s);
export const ia5 = (s: string) => str("ia5", s);

export const fromHex = (hex: string): Bytes => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
export const toHex = (b: Bytes) => Buffer.from(b).toString("hex");

// ---- names -------------------------------------------------------------------------------------------------------

const KEYWORD_OIDS: Record<string, string> = { ...ATTR, E: ATTR.EMAILADDRESS, S: ATTR.ST };

/** An attribute value: text of a string type, or raw bytes ({ hex }) as contents of that type, or a whole raw TLV. */
export type AvaSpec = readonly [attr: string, type: StringType | "raw", value: string | { hex: string }];
export type RdnSpec = readonly AvaSpec[];

export function attrOid(attr: string): string {
  return /^\d+(\.\d+)+$/.test(attr) ? attr : (KEYWORD_OIDS[attr] ?? (() => { throw new Error(`unknown attribute ${attr}`); })());
}

export function avaValue(type: StringType | "raw", value: string | { hex: string }): Bytes {
  if (type === "raw") return fromHex(typeof value === "string" ? value : value.hex);
  if (typeof value !== "string") return tlv(STRING_TAG[type], fromHex(value.hex));
  return str(type, value);
}

/** A Name from RDN specs in encoding order (most general first). */
export function name(rdns: readonly RdnSpec[]): Bytes {
  return seq(...rdns.map((rdn) => set(...rdn.map(([attr, type, value]) => seq(oid(attrOid(attr)), avaValue(type, value))))));
}

/** Shorthand: `dn("C=US", "O=Example", "CN=Alice")` in encoding order, PrintableString for C, UTF8String otherwise. */
export function dn(...parts: string[]): Bytes {
  return name(parts.map((p) => {
    const i = p.indexOf("=");
    const attr = p.slice(0, i);
    const value = p.slice(i + 1);
    const type: StringType = attr === "C" ? "printable" : attr === "E" || attr === "EMAILADDRESS" || attr === "DC" ? "ia5" : "utf8";
    return [[attr, type, value]] as const;
  }));
}
