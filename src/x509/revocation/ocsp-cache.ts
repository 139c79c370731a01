// OCSP answers kept until their nextUpdate, per certificate (issuer key, issuer name, serial), so a login with a
// known certificate costs a map lookup. An answer without nextUpdate is never kept (RFC 6960 §2.4: newer information
// may be available at any time). Concurrent questions about one certificate share one request.
// A responder that could not be reached (refused, timed out, an HTTP error) is remembered as down for `failureMs`
// (a negative cache), for every certificate: it is not asked again before then. An answer that was refused on its
// merits (signature, nonce, signer) is not remembered: whether it counts depends on the realm's configuration.
import { Lru } from "../signature.ts";
import { RememberedFailure } from "./fetch.ts";
import type { SingleResponse } from "./ocsp.ts";

export class OcspCache {
  readonly #answers: Lru<string, SingleResponse>;
  readonly #inflight = new Map<string, Promise<SingleResponse>>();
  readonly #down = new Lru<string, { error: Error; until: number }>(10_000);
  readonly #failureMs: number;
  /** Requests sent (not answered from the cache), for statistics and tests. */
  requests = 0;

  constructor(maxEntries = 100_000, failureMs = 0) {
    this.#answers = new Lru(maxEntries);
    this.#failureMs = failureMs;
  }

  /** The remembered failure of the responder at `url`, if it is still remembered at `now`. */
  down(url: string, now: number): RememberedFailure | undefined {
    const d = this.#down.get(url);
    if (!d) return undefined;
    if (d.until <= now) {
      this.#down.delete(url);
      return undefined;
    }
    return new RememberedFailure(d.error, d.until);
  }

  /** Remembers that the responder at `url` could not be reached. */
  markDown(url: string, error: Error, now: number): void {
    if (this.#failureMs > 0) this.#down.set(url, { error, until: now + this.#failureMs });
  }

  /** The cached answer for `key` if it is still current at `now`. */
  get(key: string, now: number): SingleResponse | undefined {
    const a = this.#answers.get(key);
    if (!a) return undefined;
    if (a.nextUpdate === undefined || a.nextUpdate <= now) {
      this.#answers.delete(key);
      return undefined;
    }
    return a;
  }

  /** Asks once for `key` however many callers ask at the same time; keeps answers that may be kept. */
  async ask(key: string, now: () => number, request: () => Promise<SingleResponse>): Promise<SingleResponse> {
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const p = (async () => {
      this.requests++;
      const answer = await request();
      if (answer.status !== "unknown" && answer.nextUpdate !== undefined && answer.nextUpdate > now()) this.#answers.set(key, answer);
      return answer;
    })();
    this.#inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.#inflight.delete(key);
    }
  }

  clear(): void {
    this.#answers.clear();
    this.#down.clear();
  }

  get size(): number {
    return this.#answers.size;
  }
}
