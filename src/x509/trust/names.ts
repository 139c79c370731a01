// Name matching for path building (RFC 5280 §7.1): two names match when their canonical renderings are equal (case
// folded, whitespace collapsed, NFKD), which is also how the JDK compares X500Principals. Identical DER matches at once.
import type { Certificate } from "../certificate.ts";
import type { Name } from "../name.ts";
import { canonicalDn } from "../dn.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function namesMatch(a: Name, b: Name): boolean {
  return sameBytes(a.der, b.der) || canonicalDn(a) === canonicalDn(b);
}

/** The key by which a certificate is found as the issuer of another: its subject's canonical form. */
export const subjectKey = (c: Certificate): string => c.dn("subject", "canonical");
export const issuerKey = (c: Certificate): string => c.dn("issuer", "canonical");

/** Whether the subject and issuer of `c` are the same name (a self-issued certificate, RFC 5280 §3.2). */
export const isSelfIssued = (c: Certificate): boolean => namesMatch(c.subject, c.issuer);
