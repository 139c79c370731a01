// Distinguished-name renderings, byte for byte as the JDK produces them (Keycloak's regular expressions and user
// attributes are written against these strings). Reference: OpenJDK sun.security.x509.{X500Name, RDN, AVA,
// AVAKeyword, AVAComparator}; expected values are cross-checked against the JDK (test/fixtures/dn-corpus.json).
//
//   legacy     X509Certificate.getSubjectDN().toString()   "EMAILADDRESS=a@b, CN=x, O=\"Doe, John\""
//   canonical  X500Principal.getName(CANONICAL)            "1.2.840.113549.1.9.1=#1603…,cn=x,o=doe\, john"
//   rfc2253    X500Principal.getName()                     "1.2.840.113549.1.9.1=#1603…,CN=x,O=Doe\, John"
//
// One deliberate difference: for BMPString and T61String values the JDK's rfc2253 rendering decodes the bytes as
// UTF-8 (garbage); x509-idp decodes them as UTF-16BE and ISO-8859-1, as the legacy rendering does.
import { hexOf, TAG } from "./der.ts";
import type { Ava, Name, Rdn } from "./name.ts";
import { ATTR } from "./oids.ts";
import { decodeLatin1, decodeUtf16be, decodeUtf8, javaTrim, jdkString } from "./strings.ts";

/** AVAKeyword's table for toString(): every keyword the JDK knows (preferred keyword per OID). */
const DEFAULT_KEYWORDS: ReadonlyMap<string, string> = new Map([
  [ATTR.CN, "CN"], [ATTR.C, "C"], [ATTR.L, "L"], [ATTR.ST, "ST"], [ATTR.O, "O"], [ATTR.OU, "OU"], [ATTR.T, "T"],
  [ATTR.IP, "IP"], [ATTR.STREET, "STREET"], [ATTR.DC, "DC"], [ATTR.DNQ, "DNQ"], [ATTR.SURNAME, "SURNAME"],
  [ATTR.GIVENNAME, "GIVENNAME"], [ATTR.INITIALS, "INITIALS"], [ATTR.GENERATION, "GENERATION"],
  [ATTR.EMAILADDRESS, "EMAILADDRESS"], [ATTR.UID, "UID"], [ATTR.SERIALNUMBER, "SERIALNUMBER"],
]);

/** The RFC 2253 keywords (the only ones in getName() and CANONICAL). */
const RFC2253_KEYWORDS: ReadonlyMap<string, string> = new Map([
  [ATTR.CN, "CN"], [ATTR.C, "C"], [ATTR.L, "L"], [ATTR.ST, "ST"], [ATTR.O, "O"], [ATTR.OU, "OU"],
  [ATTR.STREET, "STREET"], [ATTR.DC, "DC"], [ATTR.UID, "UID"],
]);

// Character classes of the JDK's rendering loops, as bits of one table for the ASCII range (everything at or above
// 0x80 is neither printable nor an escapee, and passes through unchanged).
const PRINTABLE = 1; // DerValue.isPrintableStringChar (X.680 §41.4 PrintableString)
const LEGACY_ESCAPEE = 2; // AVA.toKeywordValueString's specialChars + '"' and '\\'
const RFC2253_ESCAPEE = 4; // AVA.toRFC2253String's escapees
const CANONICAL_ESCAPEE = 8; // AVA.toRFC2253CanonicalString's escapees
const CLASS = new Uint8Array(128);
const mark = (chars: string, bit: number) => { for (const c of chars) CLASS[c.charCodeAt(0)] = (CLASS[c.charCodeAt(0)] as number) | bit; };
mark("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '()+,-./:=?", PRINTABLE);
mark(",+=\n<>#;\\\"", LEGACY_ESCAPEE);
mark(",=+<>#;\"\\", RFC2253_ESCAPEE);
mark(",+<>;\"\\", CANONICAL_ESCAPEE);
const classOf = (c: number) => (c < 0x80 ? (CLASS[c] as number) : 0);

const hexValue = (ava: Ava) => `#${hexOf(ava.valueDer)}`;

// ---- legacy: AVA.toString() → toKeywordValueString(DEFAULT keyword) ---------------------------------------------

function legacyAva(ava: Ava): string {
  const keyword = DEFAULT_KEYWORDS.get(ava.oid) ?? `OID.${ava.oid}`;
  const value = jdkString(ava.tag, ava.content);
  if (value === undefined) return `${keyword}=${hexValue(ava)}`;
  const length = value.length;
  const alreadyQuoted = length > 1 && value.charCodeAt(0) === 0x22 && value.charCodeAt(length - 1) === 0x22;
  let quoteNeeded = false;
  let previousWhite = false;
  // The value is copied in runs; only '"' and '\\' gain a backslash.
  let out = "";
  let from = 0;
  for (let i = 0; i < length; i++) {
    if (alreadyQuoted && (i === 0 || i === length - 1)) continue;
    const c = value.charCodeAt(i);
    const k = classOf(c);
    if ((k & (PRINTABLE | LEGACY_ESCAPEE)) === 0) {
      previousWhite = false;
      continue;
    }
    if ((i === 0 && c === 0x20) || (k & LEGACY_ESCAPEE) !== 0) quoteNeeded = true;
    if (c !== 0x20 && c !== 0x0a) {
      if (c === 0x22 || c === 0x5c) {
        out += `${value.slice(from, i)}\\`;
        from = i;
      }
      previousWhite = false;
    } else {
      if (previousWhite) quoteNeeded = true;
      previousWhite = true;
    }
  }
  out += value.slice(from);
  const last = out.charCodeAt(out.length - 1);
  if (last === 0x20 || last === 0x0a) quoteNeeded = true;
  return `${keyword}=${!alreadyQuoted && quoteNeeded ? `"${out}"` : out}`;
}

// ---- rfc2253: AVA.toRFC2253String() -----------------------------------------------------------------------------

/** isDerString(value, false): the types getName() writes as text. */
const RFC2253_TEXT: ReadonlySet<number> = new Set([TAG.PRINTABLE_STRING, TAG.T61_STRING, TAG.IA5_STRING, TAG.GENERAL_STRING, TAG.BMP_STRING, TAG.UTF8_STRING]);

/** The text the RFC 2253 rendering shows for `ava`, or undefined when it shows "#hex". */
export function rfc2253Text(ava: Ava): string | undefined {
  if (!RFC2253_KEYWORDS.has(ava.oid) || !RFC2253_TEXT.has(ava.tag)) return undefined;
  if (ava.tag === TAG.BMP_STRING) return decodeUtf16be(ava.content);
  if (ava.tag === TAG.T61_STRING) return decodeLatin1(ava.content);
  return decodeUtf8(ava.content); // as the JDK does, for PrintableString, IA5String and GeneralString too
}

function rfc2253Ava(ava: Ava): string {
  const keyword = RFC2253_KEYWORDS.get(ava.oid) ?? ava.oid;
  const value = rfc2253Text(ava);
  if (value === undefined) return `${keyword}=${hexValue(ava)}`;
  let buf = "";
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((classOf(c) & RFC2253_ESCAPEE) !== 0) {
      buf += `${value.slice(from, i)}\\`;
      from = i;
    } else if (c === 0) {
      buf += `${value.slice(from, i)}\\00`;
      from = i + 1;
    }
  }
  buf += value.slice(from);
  // Leading and trailing spaces (and carriage returns) are escaped.
  const edge = (i: number) => buf.charCodeAt(i) === 0x20 || buf.charCodeAt(i) === 0x0d;
  let lead = 0;
  while (lead < buf.length && edge(lead)) lead++;
  let trail = buf.length - 1;
  while (trail >= 0 && edge(trail)) trail--;
  if (lead === 0 && trail === buf.length - 1) return `${keyword}=${buf}`;
  let out = "";
  for (let i = 0; i < lead; i++) out += `\\${buf[i]}`;
  if (lead <= trail) out += buf.slice(lead, trail + 1);
  for (let i = Math.max(trail + 1, lead); i < buf.length; i++) out += `\\${buf[i]}`;
  return `${keyword}=${out}`;
}

// ---- canonical: AVA.toRFC2253CanonicalString() ----------------------------------------------------------------

const ASCII_ONLY = /^[\x00-\x7f]*$/;

function canonicalAva(ava: Ava): string {
  const keyword = RFC2253_KEYWORDS.get(ava.oid) ?? ava.oid;
  let s: string;
  if (!RFC2253_KEYWORDS.has(ava.oid) || (ava.tag !== TAG.PRINTABLE_STRING && ava.tag !== TAG.UTF8_STRING)) {
    s = `${keyword}=${hexValue(ava)}`;
  } else {
    const value = decodeUtf8(ava.content);
    // Escapees and a leading '#' gain a backslash; of the printable characters only the space is whitespace, and
    // runs of spaces collapse to one.
    let buf = "";
    let from = 0;
    let previousWhite = false;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === 0x20) {
        if (previousWhite) {
          buf += value.slice(from, i);
          from = i + 1;
        }
        previousWhite = true;
        continue;
      }
      previousWhite = false;
      if ((classOf(c) & CANONICAL_ESCAPEE) !== 0 || (i === 0 && c === 0x23)) {
        buf += `${value.slice(from, i)}\\`;
        from = i;
      }
    }
    buf += value.slice(from);
    s = `${keyword}=${javaTrim(buf)}`;
  }
  // Upper then lower case (US locale), then NFKD; for ASCII text that is just lower case.
  return ASCII_ONLY.test(s) ? s.toLowerCase() : s.toUpperCase().toLowerCase().normalize("NFKD");
}

/** AVAComparator: attributes with an RFC 2253 keyword first; within each group, by canonical string (UTF-16 order). */
function compareCanonical(a: { ava: Ava; text: string }, b: { ava: Ava; text: string }): number {
  const ka = RFC2253_KEYWORDS.has(a.ava.oid);
  const kb = RFC2253_KEYWORDS.has(b.ava.oid);
  if (ka !== kb) return ka ? -1 : 1;
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

/** The canonical rendering of one RDN (AVAs sorted, joined by "+"). */
export function canonicalRdn(rdn: Rdn): string {
  if (rdn.length === 1) return canonicalAva(rdn[0] as Ava);
  return rdn.map((ava) => ({ ava, text: canonicalAva(ava) })).sort(compareCanonical).map((e) => e.text).join("+");
}

// ---- whole names: the last RDN (most specific) first ----------------------------------------------------------

/** Renders every RDN with `rdn`, last (most specific) first, joined by `separator`. */
function joinReversed(name: Name, separator: string, rdn: (rdn: Rdn) => string): string {
  let out = "";
  for (let i = name.rdns.length - 1; i >= 0; i--) out += i === name.rdns.length - 1 ? rdn(name.rdns[i] as Rdn) : separator + rdn(name.rdns[i] as Rdn);
  return out;
}

const legacyRdn = (rdn: Rdn) => (rdn.length === 1 ? legacyAva(rdn[0] as Ava) : rdn.map(legacyAva).join(" + "));
const rfc2253Rdn = (rdn: Rdn) => (rdn.length === 1 ? rfc2253Ava(rdn[0] as Ava) : rdn.map(rfc2253Ava).join("+"));

export function legacyDn(name: Name): string {
  return joinReversed(name, ", ", legacyRdn);
}

export function rfc2253Dn(name: Name): string {
  return joinReversed(name, ",", rfc2253Rdn);
}

export function canonicalDn(name: Name): string {
  return joinReversed(name, ",", canonicalRdn);
}

export interface DnRenderings {
  legacy: string;
  canonical: string;
  rfc2253: string;
}

export function renderDn(name: Name): DnRenderings {
  return { legacy: legacyDn(name), canonical: canonicalDn(name), rfc2253: rfc2253Dn(name) };
}
