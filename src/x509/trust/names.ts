// Name matching for path building (RFC 5280 §7.1): two names match when their canonical renderings are equal (case
// folded, whitespace collapsed, NFKD), which is also how the JDK compares X500Principals. Identical DER matches at once.
import type { Certificate } from "../certificate.ts";
import type { Ava, Name, Rdn } from "../name.ts";
import { canonicalRdn } from "../dn.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** RDN by RDN: identical AVAs need no rendering; only RDNs that differ in bytes are compared in canonical form. */
export function namesMatch(a: Name, b: Name): boolean {
  if (sameBytes(a.der, b.der)) return true;
  if (a.rdns.length !== b.rdns.length) return false;
  for (let i = 0; i < a.rdns.length; i++) {
    const x = a.rdns[i] as Rdn;
    const y = b.rdns[i] as Rdn;
    if (x.length !== y.length) return false;
    const same = x.every((ava, j) => {
      const other = y[j] as Ava;
      return ava.oid === other.oid && ava.tag === other.tag && sameBytes(ava.content, other.content);
    });
    if (!same && canonicalRdn(x) !== canonicalRdn(y)) return false;
  }
  return true;
}

/** The key by which a certificate is found as the issuer of another: its subject's canonical form. */
export const subjectKey = (c: Certificate): string => c.dn("subject", "canonical");
export const issuerKey = (c: Certificate): string => c.dn("issuer", "canonical");

/** Whether the subject and issuer of `c` are the same name (a self-issued certificate, RFC 5280 §3.2). */
export const isSelfIssued = (c: Certificate): boolean => namesMatch(c.subject, c.issuer);

/** A Name's DER as a map key (one character per byte). */
export const derKey = (name: Name): string => Buffer.from(name.der.buffer, name.der.byteOffset, name.der.length).toString("latin1");

/** Whether `candidate`'s subject is `cert`'s issuer: the same bytes, or failing that the same canonical form. */
export const issuedName = (cert: Certificate, candidate: Certificate): boolean =>
  sameBytes(cert.issuer.der, candidate.subject.der) || issuerKey(cert) === subjectKey(candidate);

export const sameEncoding = (a: Name, b: Name): boolean => sameBytes(a.der, b.der);
