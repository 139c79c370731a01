// A certificate's Name against a DN someone wrote down (a client's registered subject DN, a CA's subject DN), parsed
// once when the setting is saved. Two comparisons:
//   exact  Keycloak's client-x509 with regex off: X500Principal(dn) and the certificate's name rendered by
//          getName(RFC2253) and compared with String.equals: spacing and escaping do not matter, case does;
//   match  RFC 8705 §2.1's distinguishedNameMatch (RFC 4517): attribute by attribute, values compared as
//          caseIgnoreMatch (case, and leading, trailing and repeated inner spaces, ignored; NFKC).
// Either way the RDNs must be the same in number and order, and each RDN the same set of attributes.
import { hexOf } from "./der.ts";
import { DnSyntaxError, parseDn } from "./dn-parse.ts";
import type { Ava, Name } from "./name.ts";
import { ATTR } from "./oids.ts";
import { stringValue } from "./strings.ts";

/** A DN longer than this is refused when saved (no real DN comes close). */
export const MAX_WRITTEN_DN = 4096;

/** The keywords X500Principal reads (with Keycloak's custom ones: SERIALNUMBER, BUSINESSCATEGORY, …). */
const KEYWORDS: Readonly<Record<string, string>> = {
  CN: ATTR.CN, C: ATTR.C, L: ATTR.L, ST: ATTR.ST, S: ATTR.ST, O: ATTR.O, OU: ATTR.OU, T: ATTR.T, TITLE: ATTR.T,
  STREET: ATTR.STREET, DC: ATTR.DC, UID: ATTR.UID, DNQ: ATTR.DNQ, DNQUALIFIER: ATTR.DNQ, SURNAME: ATTR.SURNAME,
  GIVENNAME: ATTR.GIVENNAME, INITIALS: ATTR.INITIALS, GENERATION: ATTR.GENERATION, IP: ATTR.IP,
  EMAILADDRESS: ATTR.EMAILADDRESS, E: ATTR.EMAILADDRESS, EMAIL: ATTR.EMAILADDRESS, SERIALNUMBER: ATTR.SERIALNUMBER,
  BUSINESSCATEGORY: "2.5.4.15", POSTALCODE: "2.5.4.17", PSEUDONYM: "2.5.4.65", ORGANIZATIONIDENTIFIER: "2.5.4.97",
  JURISDICTIONCOUNTRYNAME: "1.3.6.1.4.1.311.60.2.1.3",
};

export interface WrittenAva {
  readonly oid: string;
  /** Text, or the DER of the value when written as "#hex". */
  readonly value: { readonly text: string } | { readonly der: Uint8Array };
}

/** RDNs as written: the most specific first. */
export type WrittenDn = readonly (readonly WrittenAva[])[];

export type DnComparison = "exact" | "match";

/** Parses a DN as X500Principal(String) does; throws DnSyntaxError with a message fit for an admin. */
export function parseWrittenDn(input: string): WrittenDn {
  if (input.length > MAX_WRITTEN_DN) throw new DnSyntaxError(`longer than ${MAX_WRITTEN_DN} characters`);
  const rdns = parseDn(input);
  if (rdns.length === 0) throw new DnSyntaxError("empty DN");
  return rdns.map((rdn) => rdn.map((ava) => {
    const oid = /^\d/.test(ava.type) ? ava.type : KEYWORDS[ava.type];
    if (oid === undefined) throw new DnSyntaxError(`unknown attribute type "${ava.type}" (write its OID)`);
    return { oid, value: ava.value };
  }));
}

const fold = (s: string) => s.normalize("NFKC").trim().replace(/ {2,}/g, " ").toLowerCase();

function avaMatches(ava: Ava, written: WrittenAva, how: DnComparison): boolean {
  if (ava.oid !== written.oid) return false;
  if ("der" in written.value) return hexOf(ava.valueDer) === hexOf(written.value.der);
  const text = stringValue(ava.tag, ava.content);
  if (text === undefined) return false;
  return how === "exact" ? text === written.value.text : fold(text) === fold(written.value.text);
}

export function nameMatches(name: Name, dn: WrittenDn, how: DnComparison): boolean {
  const rdns = name.rdns;
  if (rdns.length !== dn.length) return false;
  for (let i = 0; i < dn.length; i++) {
    const have = rdns[rdns.length - 1 - i] as readonly Ava[];
    const want = dn[i] as readonly WrittenAva[];
    if (have.length !== want.length) return false;
    const used = new Set<number>();
    for (const w of want) {
      const at = have.findIndex((a, j) => !used.has(j) && avaMatches(a, w, how));
      if (at < 0) return false;
      used.add(at);
    }
  }
  return true;
}

export { DnSyntaxError };
