// Validation of a client certificate chain, in this order (keycloak-x509.md §4.0, the order Keycloak settled on
// after fetching URLs of untrusted certificates turned out to be an SSRF):
//   trust (path to a realm anchor) → CA pin → validity → end entity → key usage → extended key usage → policy →
//   revocation.
// Nothing is fetched before the path is verified. Every failure has a stable code, Keycloak's message for the client
// and a detail for the log.
import type { Certificate } from "../certificate.ts";
import type { RevocationChecker } from "../revocation/checker.ts";
import { buildPath } from "../trust/path.ts";
import type { TrustStore } from "../trust/trust-store.ts";
import { checkEndEntity, checkExtendedKeyUsage, checkKeyUsage, checkPolicies, checkValidity } from "./checks.ts";
import { pathCas, type ValidationOptions } from "./options.ts";
import { ValidationError, type ValidationOutcome } from "./outcome.ts";

export interface ValidationContext {
  /** The realm's trust anchors and intermediates. */
  trust: TrustStore;
  /** Needed only when CRL or OCSP checking is on. */
  revocation?: RevocationChecker;
  /** Milliseconds since the epoch. */
  now: number;
}

/** Validates `chain` (the client's certificate first, then whatever it sent with it). */
export async function validateChain(chain: readonly Certificate[], options: ValidationOptions, ctx: ValidationContext): Promise<ValidationOutcome> {
  const warnings: string[] = [];
  const leaf = chain[0];
  if (!leaf) return { ok: false, code: "UNTRUSTED", message: "X509 client certificate is missing.", detail: "no certificate", warnings };
  try {
    const built = buildPath(leaf, chain.slice(1), ctx.trust);
    if (!built.ok) throw new ValidationError("UNTRUSTED", "Unable to find certificate chain.", built.detail);
    const path = built.path;

    if (options.caPins.length > 0) {
      const cas = pathCas(path);
      if (!cas.some((c) => options.caPins.includes(c.sha256))) {
        throw new ValidationError("CA_PIN", "Invalid trust anchor for the certificate", `no CA of the path (${cas.map((c) => c.sha256).join(", ")}) is pinned`);
      }
    }

    checkValidity(path, ctx.now);
    if (options.timestampValidation) checkValidity(chain, ctx.now);
    checkEndEntity(leaf, options);

    warnings.push(...checkKeyUsage(leaf, options));
    warnings.push(...checkExtendedKeyUsage(leaf, options));
    checkPolicies(leaf, options);

    if (options.crl.enabled || options.ocsp.enabled) {
      if (!ctx.revocation) throw new Error("revocation checking is configured but no RevocationChecker was given");
      await ctx.revocation.check(path, options, warnings);
    }
    return { ok: true, path, warnings };
  } catch (e) {
    if (e instanceof ValidationError) return { ok: false, code: e.code, message: e.message, detail: e.detail, ...(e.cachedFailure && { cachedFailure: true as const }), warnings };
    throw e;
  }
}
