// The process's revocation checker: one CRL cache and one OCSP cache shared by every realm (a CRL is the same data
// whoever asks; each realm still verifies it against its own path), node:http and ldapts for fetching.
import type { RevocationSettings } from "../config/env.ts";
import { RevocationChecker } from "../x509/revocation/checker.ts";
import { CrlCache } from "../x509/revocation/crl-cache.ts";
import { OcspCache } from "../x509/revocation/ocsp-cache.ts";
import { nodeHttpClient } from "./http-client.ts";
import { ldapClient } from "./ldap-client.ts";

/** A CRL without nextUpdate is used for at most an hour (RFC 5280 requires nextUpdate; this is for the others). */
const NO_NEXT_UPDATE_MAX_AGE_MS = 3600_000;
const OCSP_MAX_BYTES = 256 * 1024;

export function createRevocationChecker(s: RevocationSettings, now: () => number = Date.now): RevocationChecker {
  return new RevocationChecker({
    http: nodeHttpClient(),
    ldap: ldapClient(),
    crlDir: s.crlDir,
    now,
    timeoutMs: s.fetchTimeoutMs,
    crlMaxBytes: s.crlMaxBytes,
    ocspMaxBytes: OCSP_MAX_BYTES,
    crlCache: new CrlCache({
      now,
      minReloadMs: s.crlMinReloadSeconds * 1000,
      failureMs: s.failureCacheSeconds * 1000,
      maxAgeMs: s.crlMaxAgeSeconds === undefined ? undefined : s.crlMaxAgeSeconds * 1000,
      maxAgeWithoutNextUpdateMs: NO_NEXT_UPDATE_MAX_AGE_MS,
    }),
    ocspCache: new OcspCache(100_000, s.failureCacheSeconds * 1000),
  });
}
