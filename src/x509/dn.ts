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
import { decodeLatin1, decodeUtf16be, decodeUtf8, jdkString } from "./strings.ts";

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

/** DerValue.isPrintableStringChar (X.680 §41.4 PrintableString). */
function isPrintable(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || " '()+,-./:=?".includes(String.fromCharCode(c));
}

const hexValue = (ava: Ava) => `#${hexOf(ava.valueDer)}`;

// ---- legacy: AVA.toString() → toKeywordValueString(DEFAULT keyword) ---------------------------------------------

function legacyAva(ava: Ava): string {
  const keyword = DEFAULT_KEYWORDS.get(ava.oid) ?? `OID.${ava.oid}`;
  const value = jdkString(ava.tag, ava.content);
  if (value === undefined) return `${keyword}=${hexValue(ava)}`;
  const escapees = ",+=\n<>#;\\\"";
  const length = value.length;
  const alreadyQuoted = length > 1 && value[0] === '"' && value[length - 1] === '"';
  let quoteNeeded = false;
  let previousWhite = false;
  let out = "";
  for (let i = 0; i < length; i++) {
    const ch = value[i] as string;
    const c = value.charCodeAt(i);
    if (alreadyQuoted && (i === 0 || i === length - 1)) {
      out += ch;
      continue;
    }
    if (isPrintable(c) || escapees.includes(ch)) {
      if (!quoteNeeded && ((i === 0 && (ch === " " || ch === "\n")) || escapees.includes(ch))) quoteNeeded = true;
      if (ch !== " " && ch !== "\n") {
        if (ch === '"' || ch === "\\") out += "\\";
        previousWhite = false;
      } else {
        if (!quoteNeeded && previousWhite) quoteNeeded = true;
        previousWhite = true;
      }
      out += ch;
    } else {
      previousWhite = false;
      out += ch;
    }
  }
  const last = out[out.length - 1];
  if (last === " " || last === "\n") quoteNeeded = true;
  return `${keyword}=${!alreadyQuoted && quoteNeeded ? `"${out}"` : out}`;
}

// ---- rfc2253: AVA.toRFC2253String() -----------------------------------------------------------------------------

/** isDerString(value, false): the types getName() writes as text. */
const RFC2253_TEXT: ReadonlySet<number> = new Set([TAG.PRINTABLE_STRING, TAG.T61_STRING, TAG.IA5_STRING, TAG.GENERAL_STRING, TAG.BMP_STRING, TAG.UTF8_STRING]);

function rfc2253Ava(ava: Ava): string {
  const keyword = RFC2253_KEYWORDS.get(ava.oid) ?? ava.oid;
  if (!RFC2253_KEYWORDS.has(ava.oid) || !RFC2253_TEXT.has(ava.tag)) return `${keyword}=${hexValue(ava)}`;
  const value = ava.tag === TAG.BMP_STRING ? decodeUtf16be(ava.content) : ava.tag === TAG.T61_STRING ? decodeLatin1(ava.content) : decodeUtf8(ava.content);
  const escapees = ",=+<>#;\"\\";
  let buf = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const c = value.charCodeAt(i);
    if (isPrintable(c) || escapees.includes(ch)) buf += escapees.includes(ch) ? `\\${ch}` : ch;
    else if (c === 0) buf += "\\00";
    else buf += ch;
  }
  // Leading and trailing spaces (and carriage returns) are escaped.
  let lead = 0;
  while (lead < buf.length && (buf[lead] === " " || buf[lead] === "\r")) lead++;
  let trail = buf.length - 1;
  while (trail >= 0 && (buf[trail] === " " || buf[trail] === "\r")) trail--;
  let out = "";
  for (let i = 0; i < buf.length; i++) out += i < lead || i > trail ? `\\${buf[i]}` : buf[i];
  return `${keyword}=${out}`;
}

// ---- canonical: AVA.toRFC2253CanonicalString() ----------------------------------------------------------------

/** String.trim(): drops characters up to U+0020 at both ends. */
function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}

function canonicalAva(ava: Ava): string {
  const keyword = RFC2253_KEYWORDS.get(ava.oid) ?? ava.oid;
  let s: string;
  if (!RFC2253_KEYWORDS.has(ava.oid) || (ava.tag !== TAG.PRINTABLE_STRING && ava.tag !== TAG.UTF8_STRING)) {
    s = `${keyword}=${hexValue(ava)}`;
  } else {
    const value = decodeUtf8(ava.content);
    const escapees = ",+<>;\"\\";
    let buf = "";
    let previousWhite = false;
    for (let i = 0; i < value.length; i++) {
      const ch = value[i] as string;
      const c = value.charCodeAt(i);
      if (isPrintable(c) || escapees.includes(ch) || (i === 0 && ch === "#")) {
        if ((i === 0 && ch === "#") || escapees.includes(ch)) buf += "\\";
        // Of these characters only the space is whitespace: runs of spaces collapse to one.
        if (ch !== " ") {
          previousWhite = false;
          buf += ch;
        } else if (!previousWhite) {
          previousWhite = true;
          buf += ch;
        }
      } else {
        previousWhite = false;
        buf += ch;
      }
    }
    s = `${keyword}=${javaTrim(buf)}`;
  }
  return s.toUpperCase().toLowerCase().normalize("NFKD");
}

/** AVAComparator: attributes with an RFC 2253 keyword first; within each group, by canonical string (UTF-16 order). */
function compareCanonical(a: { ava: Ava; text: string }, b: { ava: Ava; text: string }): number {
  const ka = RFC2253_KEYWORDS.has(a.ava.oid);
  const kb = RFC2253_KEYWORDS.has(b.ava.oid);
  if (ka !== kb) return ka ? -1 : 1;
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

function canonicalRdn(rdn: Rdn): string {
  if (rdn.length === 1) return canonicalAva(rdn[0] as Ava);
  return rdn.map((ava) => ({ ava, text: canonicalAva(ava) })).sort(compareCanonical).map((e) => e.text).join("+");
}

// ---- whole names: the last RDN (most specific) first ----------------------------------------------------------

function reversed<T>(items: readonly T[]): T[] {
  return items.slice().reverse();
}

export function legacyDn(name: Name): string {
  return reversed(name.rdns).map((rdn) => rdn.map(legacyAva).join(" + ")).join(", ");
}

export function rfc2253Dn(name: Name): string {
  return reversed(name.rdns).map((rdn) => rdn.map(rfc2253Ava).join("+")).join(",");
}

export function canonicalDn(name: Name): string {
  return reversed(name.rdns).map(canonicalRdn).join(",");
}

export interface DnRenderings {
  legacy: string;
  canonical: string;
  rfc2253: string;
}

export function renderDn(name: Name): DnRenderings {
  return { legacy: legacyDn(name), canonical: canonicalDn(name), rfc2253: rfc2253Dn(name) };
}
