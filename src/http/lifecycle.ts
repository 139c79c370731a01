// The process's serving state, shared by the HTTP servers and /health/ready. A graceful shutdown (http/server.ts)
// first marks the process as draining: /health/ready answers 503 at once, so a load balancer takes the node out of
// rotation, and every response asks its client to close the connection; the requests already accepted are counted
// here until each has been answered.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

export class Lifecycle {
  #draining = false;
  readonly #inFlight = new Set<ServerResponse>();
  #waiters: (() => void)[] = [];

  get draining(): boolean {
    return this.#draining;
  }

  /** Requests accepted and not yet answered. */
  get active(): number {
    return this.#inFlight.size;
  }

  beginDrain(): void {
    this.#draining = true;
    // Answers not sent yet close their connection too.
    for (const res of this.#inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
  }

  /** The listener, counting the requests in flight and closing kept-alive connections once draining. */
  track(listener: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      this.#inFlight.add(res);
      res.once("close", () => {
        this.#inFlight.delete(res);
        if (this.#inFlight.size === 0) for (const w of this.#waiters.splice(0)) w();
      });
      if (this.#draining) res.setHeader("Connection", "close");
      listener(req, res);
    };
  }

  /** Resolves true once no request is in flight, or false after `ms`. */
  async idle(ms: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}
