// The process's revocation checker: one CRL cache and one OCSP cache shared by every realm (a CRL is the same data
// whoever asks; each realm still verifies it against its own path), node:http and ldapts for fetching.
import type { RevocationSettings } from "../config/env.ts";
import { RevocationChecker } from "../x509/revocation/checker.ts";
import { CrlCache, type CachedCrl, type CrlCacheOptions } from "../x509/revocation/crl-cache.ts";
import { RememberedFailure, type HttpClient, type LdapClient } from "../x509/revocation/fetch.ts";
import type { SingleResponse } from "../x509/revocation/ocsp.ts";
import { OcspCache } from "../x509/revocation/ocsp-cache.ts";
import type { Metrics, RevocationSource } from "../metrics.ts";
import { nodeHttpClient } from "./http-client.ts";
import { ldapClient } from "./ldap-client.ts";

/** A CRL without nextUpdate is used for at most an hour (RFC 5280 requires nextUpdate; this is for the others). */
const NO_NEXT_UPDATE_MAX_AGE_MS = 3600_000;
const OCSP_MAX_BYTES = 256 * 1024;
const OCSP_CACHE_ENTRIES = 100_000;

export function createRevocationChecker(s: RevocationSettings, now: () => number = Date.now, metrics?: Metrics): RevocationChecker {
  const crlCache = {
    now,
    minReloadMs: s.crlMinReloadSeconds * 1000,
    failureMs: s.failureCacheSeconds * 1000,
    maxAgeMs: s.crlMaxAgeSeconds === undefined ? undefined : s.crlMaxAgeSeconds * 1000,
    maxAgeWithoutNextUpdateMs: NO_NEXT_UPDATE_MAX_AGE_MS,
  };
  const http = nodeHttpClient();
  const ldap = ldapClient();
  return new RevocationChecker({
    http: metrics ? observedHttp(http, metrics) : http,
    ldap: metrics ? observedLdap(ldap, metrics) : ldap,
    crlDir: s.crlDir,
    now,
    timeoutMs: s.fetchTimeoutMs,
    crlMaxBytes: s.crlMaxBytes,
    ocspMaxBytes: OCSP_MAX_BYTES,
    crlCache: metrics ? new ObservedCrlCache(crlCache, metrics) : new CrlCache(crlCache),
    ocspCache: metrics ? new ObservedOcspCache(OCSP_CACHE_ENTRIES, s.failureCacheSeconds * 1000, metrics, now) : new OcspCache(OCSP_CACHE_ENTRIES, s.failureCacheSeconds * 1000),
  });
}

// ---- metrics: what the sources cost and how often the caches answer ------------------------------------------------

async function timed<T>(metrics: Metrics, source: RevocationSource, fetch: () => Promise<T>): Promise<T> {
  const started = performance.now();
  let ok = false;
  try {
    const r = await fetch();
    ok = true;
    return r;
  } finally {
    metrics.revocationFetch(source, ok, (performance.now() - started) / 1000);
  }
}

/** CRLs are fetched with GET, OCSP answers with POST. */
const observedHttp = (http: HttpClient, metrics: Metrics): HttpClient => ({
  get: (url, headers, limits) => timed(metrics, "crl", () => http.get(url, headers, limits)),
  post: (url, body, headers, limits) => timed(metrics, "ocsp", () => http.post(url, body, headers, limits)),
});

const observedLdap = (ldap: LdapClient, metrics: Metrics): LdapClient => ({
  readAttribute: (url, limits) => timed(metrics, "crl", () => ldap.readAttribute(url, limits)),
});

class ObservedCrlCache extends CrlCache {
  readonly #metrics: Metrics;
  readonly #now: () => number;

  constructor(o: CrlCacheOptions, metrics: Metrics) {
    super(o);
    this.#metrics = metrics;
    this.#now = o.now;
  }

  override async get(location: string, load: () => Promise<Uint8Array>): Promise<CachedCrl> {
    let loaded = false;
    try {
      const r = await super.get(location, () => {
        loaded = true;
        return load();
      });
      this.#metrics.revocationLookup("crl", loaded ? "miss" : "hit");
      this.#metrics.revocationAnswerAge("crl", r.crl.thisUpdate, this.#now());
      return r;
    } catch (e) {
      this.#metrics.revocationLookup("crl", e instanceof RememberedFailure ? "remembered_failure" : "miss");
      throw e;
    }
  }
}

class ObservedOcspCache extends OcspCache {
  readonly #metrics: Metrics;
  readonly #now: () => number;

  constructor(maxEntries: number, failureMs: number, metrics: Metrics, now: () => number) {
    super(maxEntries, failureMs);
    this.#metrics = metrics;
    this.#now = now;
  }

  override get(key: string, now: number): SingleResponse | undefined {
    const answer = super.get(key, now);
    if (answer) {
      this.#metrics.revocationLookup("ocsp", "hit");
      this.#metrics.revocationAnswerAge("ocsp", answer.thisUpdate, now);
    }
    return answer;
  }

  override async ask(key: string, now: () => number, request: () => Promise<SingleResponse>): Promise<SingleResponse> {
    this.#metrics.revocationLookup("ocsp", "miss");
    const answer = await super.ask(key, now, request);
    this.#metrics.revocationAnswerAge("ocsp", answer.thisUpdate, this.#now());
    return answer;
  }

  override down(url: string, now: number): RememberedFailure | undefined {
    const d = super.down(url, now);
    if (d) this.#metrics.revocationLookup("ocsp", "remembered_failure");
    return d;
  }
}
