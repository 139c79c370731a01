// The checks on the client's certificate that need no network: validity, key usage, extended key usage and
// certificate policies, each with Keycloak's message (CertificateValidator.java). A failure is thrown as a
// ValidationError; a mismatch that the configuration lets through is returned as a warning.
import type { Certificate } from "../certificate.ts";
import { CertificateParseError } from "../errors.ts";
import { EXT, KEY_USAGE_BITS } from "../oids.ts";
import type { ValidationOptions } from "./options.ts";
import { javaDate, spacedSerial, ValidationError } from "./outcome.ts";

/** notBefore ≤ now ≤ notAfter for each certificate, Keycloak's messages. */
export function checkValidity(certs: readonly Certificate[], now: number): void {
  for (const c of certs) {
    if (c.notBefore > now) {
      throw new ValidationError("CERT_NOT_YET_VALID", `certificate with serialnumber '${spacedSerial(c.serialDecimal)}' is not valid yet: ${javaDate(c.notBefore)}`);
    }
    if (c.notAfter < now) {
      throw new ValidationError("CERT_EXPIRED", `certificate with serialnumber '${spacedSerial(c.serialDecimal)}' has expired on: ${javaDate(c.notAfter)}`);
    }
  }
}

/**
 * RFC 5280 §4.2.1.9: a certificate whose basicConstraints says cA is a CA's; the client's certificate is an end
 * entity's. A CA certificate (an intermediate, a root, a self-signed one made with openssl's defaults) is refused
 * unless the configuration allows it.
 */
export function checkEndEntity(cert: Certificate, o: ValidationOptions): void {
  if (o.allowCaCertificate) return;
  const bc = read("CA_CERTIFICATE", () => cert.basicConstraints);
  if (bc?.ca) throw new ValidationError("CA_CERTIFICATE", "The client certificate is a CA certificate, not an end entity.", `'${cert.dn("subject", "legacy")}' has basicConstraints cA: TRUE`);
}

/** Reads an extension, turning a malformed one into a failure of the check that needed it. */
function read<T>(code: ValidationError["code"], f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CertificateParseError) throw new ValidationError(code, e.message);
    throw e;
  }
}

/** Returns warnings (mismatches let through by the legacy rule); throws on a mismatch that fails. */
export function checkKeyUsage(cert: Certificate, o: ValidationOptions): string[] {
  if (o.keyUsage.length === 0) return [];
  const present = read("KEY_USAGE", () => cert.keyUsage);
  if (!present) throw new ValidationError("KEY_USAGE", "Key usage extension is expected, but unavailable.");
  const missing = KEY_USAGE_BITS.filter((b) => o.keyUsage.includes(b) && !present.includes(b)).map((b) => `Key Usage bit '${b}' is not set.`);
  if (missing.length === 0) return [];
  const message = missing.join("\n");
  if (o.legacyCriticalBehavior && !cert.extensions.get(EXT.KEY_USAGE)?.critical) return [message];
  throw new ValidationError("KEY_USAGE", message);
}

export function checkExtendedKeyUsage(cert: Certificate, o: ValidationOptions): string[] {
  if (o.extendedKeyUsage.length === 0) return [];
  const present = read("EXTENDED_KEY_USAGE", () => cert.extendedKeyUsage);
  if (!present) throw new ValidationError("EXTENDED_KEY_USAGE", "Extended key usage extension is expected, but unavailable");
  const warnings: string[] = [];
  const lenient = o.legacyCriticalBehavior && !cert.extensions.get(EXT.EXT_KEY_USAGE)?.critical;
  for (const want of o.extendedKeyUsage) {
    if (present.includes(want.oid)) continue;
    const message = `Extended Key Usage '${want.text}' is missing.`;
    if (!lenient) throw new ValidationError("EXTENDED_KEY_USAGE", message);
    warnings.push(message);
  }
  return warnings;
}

export function checkPolicies(cert: Certificate, o: ValidationOptions): void {
  const expected = o.certificatePolicies;
  if (expected.length === 0) return;
  const found = read("CERTIFICATE_POLICY", () => cert.policies);
  if (cert.extensions.size === 0) throw new ValidationError("CERTIFICATE_POLICY", "Certificate Policy validation was expected, but no certificate extensions were found");
  if (!found) throw new ValidationError("CERTIFICATE_POLICY", "Certificate Policy validation was expected, but no certificate policy extensions were found");
  const policies = found.map((p) => p.toLowerCase());
  if (o.certificatePolicyMode === "any") {
    if (!expected.some((p) => policies.includes(p.toLowerCase()))) {
      throw new ValidationError("CERTIFICATE_POLICY", `Certificate Policy check failed: mode = ANY, found = '${policies.join(",")}', expected = '${expected.join(",")}'.`);
    }
    return;
  }
  for (const p of expected) {
    if (!policies.includes(p.toLowerCase())) throw new ValidationError("CERTIFICATE_POLICY", `Certificate Policy check failed: mode = ALL, certificate policy '${p}' is missing.`);
  }
}
