// The first thing every request meets: who sent it. Header fields that a proxy would set (client certificate, client
// address, scheme, host) are believed only from a TCP peer listed in IDP_TRUSTED_PROXIES; from anyone else they are
// removed before any code sees them, and the certificate fields among them are remembered so that the login that
// follows can record the attempt (Keycloak issues #17059, #35861: forged certificate headers).
import type { IncomingMessage } from "node:http";
import net from "node:net";
import type { Logger } from "../log.ts";
import { unmapped, type TrustedProxies } from "../net/trusted-proxies.ts";

/** Fields only a proxy may set. Koa reads the X-Forwarded-* ones (app.proxy) once this gate has run. */
const FORWARDED = ["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip"];

export interface RequestOrigin {
  /** The TCP peer is a trusted proxy: its certificate and forwarding fields count. */
  trustedProxy: boolean;
  /** The peer address as Node reports it. */
  peer: string;
  /** Certificate header fields an untrusted peer sent (and that were removed). */
  ignoredHeaders: string[];
}

const ORIGIN = Symbol("x509-idp.request-origin");
type Marked = IncomingMessage & { [ORIGIN]?: RequestOrigin };

/** What the gate decided about this request; a request that never passed the gate trusts nothing. */
export function originOf(req: IncomingMessage): RequestOrigin {
  return (req as Marked)[ORIGIN] ?? { trustedProxy: false, peer: req.socket.remoteAddress ?? "", ignoredHeaders: [] };
}

/**
 * The client's address from X-Forwarded-For, read from the right: each trusted proxy appends the address it saw, so
 * the first entry that is not a trusted proxy is the client. Entries further left are the client's own claims.
 */
export function forwardedClient(xff: string, trusted: TrustedProxies): string | undefined {
  const hops = xff.split(",").map((s) => s.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = unmapped(hops[i] as string);
    if (!net.isIP(hop)) return undefined;
    if (!trusted.contains(hop) || i === 0) return hop;
  }
  return undefined;
}

const WARN_EVERY_MS = 60_000;

export function requestGate(trusted: TrustedProxies, certificateHeaders: readonly string[], log: Logger): (req: IncomingMessage) => void {
  const lastWarning = new Map<string, number>();
  return (req) => {
    const peer = req.socket.remoteAddress ?? "";
    const trustedProxy = trusted.contains(peer);
    const ignoredHeaders: string[] = [];
    const headers = req.headers;
    if (trustedProxy) {
      const raw = headers["x-forwarded-for"];
      const xff = Array.isArray(raw) ? raw.join(",") : raw;
      if (xff !== undefined) {
        const client = forwardedClient(xff, trusted);
        if (client === undefined) delete headers["x-forwarded-for"];
        else headers["x-forwarded-for"] = client;
      }
    } else {
      for (const h of FORWARDED) if (h in headers) delete headers[h];
      for (const h of certificateHeaders) {
        if (h in headers) {
          ignoredHeaders.push(h);
          delete headers[h];
        }
      }
      if (ignoredHeaders.length > 0) {
        // One line per peer and minute: a flood of forged requests must not flood the log.
        const now = Date.now();
        if ((lastWarning.get(peer) ?? 0) + WARN_EVERY_MS < now) {
          if (lastWarning.size > 10_000) lastWarning.clear();
          lastWarning.set(peer, now);
          log.warn({ peer, headers: ignoredHeaders }, "client certificate header from a peer that is not a trusted proxy: ignored (IDP_TRUSTED_PROXIES)");
        }
      }
    }
    (req as Marked)[ORIGIN] = { trustedProxy, peer, ignoredHeaders };
  };
}
