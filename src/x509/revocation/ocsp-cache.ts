// OCSP answers kept until their nextUpdate, per certificate (issuer key, issuer name, serial), so a login with a
// known certificate costs a map lookup. An answer without nextUpdate is never kept (RFC 6960 §2.4: newer information
// may be available at any time). Concurrent questions about one certificate share one request.
import { Lru } from "../signature.ts";
import type { SingleResponse } from "./ocsp.ts";

export class OcspCache {
  readonly #answers: Lru<string, SingleResponse>;
  readonly #inflight = new Map<string, Promise<SingleResponse>>();
  /** Requests sent (not answered from the cache), for statistics and tests. */
  requests = 0;

  constructor(maxEntries = 100_000) {
    this.#answers = new Lru(maxEntries);
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
  }

  get size(): number {
    return this.#answers.size;
  }
}
