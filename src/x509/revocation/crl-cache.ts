// Parsed CRLs, kept until they are due for renewal, so that a login costs a set lookup rather than a download and a
// parse (Keycloak before 26.2 re-read 40 MB CRLs on every login). Per location:
//   - a CRL is used until its nextUpdate (a CRL without one: `maxAgeWithoutNextUpdateMs`), bounded by `maxAgeMs`;
//   - a due CRL is reloaded, but not twice within `minReloadMs`: until then the last CRL is used (even a stale one:
//     the caller decides whether stale is acceptable);
//   - a failed load is remembered for `failureMs` (a negative cache): until then the location is not tried again and
//     the failure, marked as remembered, is the answer (or the previous CRL, with a warning);
//   - concurrent requests for one location share one load;
//   - a failed reload keeps the previous CRL, with a warning.
import { Crl, parseCrl } from "./crl.ts";
import { RememberedFailure } from "./fetch.ts";

export interface CrlCacheOptions {
  now: () => number;
  minReloadMs: number;
  /** How long a failed load is remembered; 0: every login tries again. */
  failureMs: number;
  maxAgeMs: number | undefined;
  maxAgeWithoutNextUpdateMs: number;
}

export interface CachedCrl {
  crl: Crl;
  /** Set when the CRL is older than wanted because reloading failed. */
  warning?: string;
}

interface Entry {
  crl?: Crl;
  /** When the CRL is due for renewal. */
  due: number;
  lastAttempt: number;
  error?: Error;
  /** Until when the last failure is the answer. */
  failedUntil: number;
  loading?: Promise<Crl>;
}

export class CrlCache {
  readonly #o: CrlCacheOptions;
  readonly #entries = new Map<string, Entry>();
  /** Completed loads (downloads and parses), for statistics and tests. */
  loads = 0;

  constructor(options: CrlCacheOptions) {
    this.#o = options;
  }

  #due(crl: Crl, loadedAt: number): number {
    const natural = crl.nextUpdate ?? loadedAt + this.#o.maxAgeWithoutNextUpdateMs;
    return this.#o.maxAgeMs === undefined ? natural : Math.min(natural, loadedAt + this.#o.maxAgeMs);
  }

  /** The CRL at `location`, from the cache or from `load` (which returns the CRL's bytes). */
  async get(location: string, load: () => Promise<Uint8Array>): Promise<CachedCrl> {
    const now = this.#o.now();
    let e = this.#entries.get(location);
    if (e?.crl && now < e.due) return { crl: e.crl };
    if (e?.loading) return this.#await(e);
    if (e?.error && now < e.failedUntil) {
      if (e.crl) return { crl: e.crl, warning: `reloading failed, using the CRL loaded before: ${e.error.message}` };
      throw new RememberedFailure(e.error, e.failedUntil);
    }
    if (e?.crl && !e.error && now - e.lastAttempt < this.#o.minReloadMs) return { crl: e.crl };
    if (!e) {
      e = { due: 0, lastAttempt: now, failedUntil: 0 };
      this.#entries.set(location, e);
    }
    const entry = e;
    entry.lastAttempt = now;
    entry.loading = (async () => parseCrl(await load()))();
    try {
      const crl = await entry.loading;
      this.loads++;
      entry.crl = crl;
      entry.due = this.#due(crl, this.#o.now());
      entry.error = undefined;
      return { crl };
    } catch (err) {
      entry.error = err as Error;
      entry.failedUntil = this.#o.now() + this.#o.failureMs;
      if (entry.crl) return { crl: entry.crl, warning: `reloading failed, using the CRL loaded before: ${(err as Error).message}` };
      throw err;
    } finally {
      entry.loading = undefined;
    }
  }

  async #await(e: Entry): Promise<CachedCrl> {
    try {
      return { crl: await (e.loading as Promise<Crl>) };
    } catch (err) {
      if (e.crl) return { crl: e.crl, warning: `reloading failed, using the CRL loaded before: ${(err as Error).message}` };
      throw err;
    }
  }

  /** Forgets every CRL (the admin API's clear-crl-cache). */
  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
