// The identity a certificate yields for a configured source (keycloak-x509.md §3.1). Only the leaf is used.
// Keycloak's values are reproduced byte for byte, with two deliberate fixes:
//   - Subject's Common Name is the attribute's text, not an RFC 4514-escaped string ("Doe, John", not "Doe\, John");
//   - otherName (UPN) returns a UPN only, never some other otherName when the certificate has no UPN.
// And an empty identity is no identity: an empty regular-expression group never maps to a user whose attribute
// happens to be empty.
import type { Certificate } from "../certificate.ts";
import { CertificateParseError } from "../errors.ts";
import { DEFAULT_REGEX, DELIMITER, type IdentityOptions } from "../options.ts";
import { Pattern } from "../regex/pattern.ts";

export type IdentityFailure =
  /** The certificate has no such field (no SAN e-mail, no UPN, no subject key identifier…). */
  | "FIELD_MISSING"
  /** The regular expression did not match, or its group did not take part or matched nothing. */
  | "NO_MATCH"
  /** The value is too long for the configured expression's time budget (only hostile certificates get here). */
  | "VALUE_TOO_LONG"
  /** The extension that holds the value is malformed. */
  | "MALFORMED_EXTENSION";

export type IdentityResult =
  | { ok: true; identity: string; /** Every value the source offers (several xmppAddrs, e-mails…); identity is the first. */ candidates: string[] }
  | { ok: false; reason: IdentityFailure; message: string };

const WHOLE_VALUE = new Pattern(DEFAULT_REGEX);

const fail = (reason: IdentityFailure, message: string): IdentityResult => ({ ok: false, reason, message });
const found = (candidates: string[], what: string): IdentityResult => {
  const values = candidates.filter((c) => c !== "");
  const [first] = values;
  return first === undefined ? fail("FIELD_MISSING", `the certificate has no ${what}`) : { ok: true, identity: first, candidates: values };
};

/** Keycloak's PatternMatcher: find(), exactly one group, group 1. */
function match(pattern: Pattern, value: string, what: string): IdentityResult {
  if (!pattern.fits(value)) return fail("VALUE_TOO_LONG", `the ${what} is too long to search with this expression`);
  const group = pattern.find(value)?.groups[0];
  if (group === undefined || group === "") return fail("NO_MATCH", `the expression found no identity in the ${what}`);
  return { ok: true, identity: group, candidates: [group] };
}

function extract(cert: Certificate, o: IdentityOptions): IdentityResult {
  const dn = (which: "subject" | "issuer") => cert.dn(which, o.canonicalDn ? "canonical" : "legacy");
  const serial = () => (o.serialHex ? cert.serialHex : cert.serialDecimal);
  switch (o.source) {
    case "subject-dn-regex":
      return match(o.regex, dn("subject"), "subject DN");
    case "issuer-dn-regex":
      return match(o.regex, dn("issuer"), "issuer DN");
    case "serial":
      return match(WHOLE_VALUE, serial(), "serial number");
    case "serial-issuer-dn":
      return match(WHOLE_VALUE, `${serial()}${DELIMITER}${dn("issuer")}`, "serial number and issuer DN");
    case "sha256-thumbprint":
      return match(WHOLE_VALUE, cert.sha256, "thumbprint");
    case "certificate-pem":
      return { ok: true, identity: cert.base64, candidates: [cert.base64] };
    // Keycloak reads the subject's RFC 2253 string, most specific RDN first: the last value in DER order wins.
    case "subject-email":
      return found(cert.subjectEmails.slice().reverse(), "e-mail address in its subject");
    case "subject-cn":
      return found(cert.subjectCommonNames.slice().reverse(), "common name");
    case "san-email":
      return found(cert.sanEmails, "e-mail address in its subject alternative names");
    case "san-upn":
      return found(cert.sanUpns, "user principal name (UPN)");
    case "san-xmpp":
      return found(cert.sanXmppAddrs, "XMPP address");
    case "spki-sha256":
      return { ok: true, identity: cert.spkiSha256, candidates: [cert.spkiSha256] };
    case "subject-key-id": {
      const ski = cert.subjectKeyId;
      return ski ? { ok: true, identity: ski, candidates: [ski] } : fail("FIELD_MISSING", "the certificate has no subject key identifier");
    }
  }
}

/** The identity of `cert` under `options`; never throws for anything a certificate can contain. */
export function extractIdentity(cert: Certificate, options: IdentityOptions): IdentityResult {
  try {
    return extract(cert, options);
  } catch (e) {
    if (e instanceof CertificateParseError) return fail("MALFORMED_EXTENSION", e.message);
    throw e;
  }
}
