// HTTPS (always), plain HTTP (optional, for a TLS-terminating proxy in front) and a certificate listener (optional,
// IDP_MTLS_PORT). An HTTPS server that asks clients for a certificate accepts connections without one: the X.509
// authenticator decides later, per realm and per request, what a certificate means. With IDP_HTTPS_CLIENT_CERT=none
// the main port does not ask (browsers do not prompt on the login page) and certificates reach x509-idp on the
// certificate listener only.
import https from "node:https";
import http from "node:http";
import type net from "node:net";
import type { AddressInfo } from "node:net";
import type { ConnectionSettings } from "../config/env.ts";
import type { Logger } from "../log.ts";
import type { TrustedProxies } from "../net/trusted-proxies.ts";
import { sweepExpired } from "../oidc/adapter.ts";
import { metricsServer } from "./metrics.ts";
import { BruteForceGuard } from "../users/brute-force.ts";
import type { Services } from "../services.ts";
import { createApp } from "./app.ts";
import type { TlsMaterial } from "./tls.ts";

export interface RunningServer {
  httpsPort: number;
  httpPort: number | undefined;
  /** IDP_MTLS_PORT's server, when configured. */
  mtlsPort: number | undefined;
  /** IDP_METRICS_PORT's server, when configured. */
  metricsPort: number | undefined;
  /**
   * Graceful stop: /health/ready answers 503 at once and requests are still served for `delayMs` (the load balancer
   * notices), then no new connection is accepted, every accepted request is answered (at most `timeoutMs`; their
   * responses close their connections), and the connections left are closed. Resolves with the requests that were
   * still unanswered when the time was up.
   */
  shutdown(o: { delayMs: number; timeoutMs: number }): Promise<{ unfinished: number }>;
}

/** Stale login-failure counters are deleted this often. */
const SWEEP_EVERY_MS = 60_000;
/** Expired tokens are deleted this often, at most EXPIRY_BUDGET_MS of batches at a time (oidc/adapter.ts sweepExpired). */
const EXPIRY_EVERY_MS = 1000;
const EXPIRY_BUDGET_MS = 100;
/** How often Node checks requests against their timeouts (its default, 30 s, lets a slow client hold on twice as long). */
const CHECK_EVERY_MS = 1000;

/**
 * Deletes expired tokens as they expire: every EXPIRY_EVERY_MS, batches for at most EXPIRY_BUDGET_MS (a backlog, after
 * a pause or a restart, is worked off over the following ticks). A failure (the database is down) is logged once, and
 * again when sweeping works again.
 */
function sweepContinuously(services: Services, log: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let failing = false;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepExpired(services.db.prisma, new Date(), EXPIRY_BUDGET_MS)
      .then(() => {
        if (failing) log.info("expired tokens are deleted again");
        failing = false;
      })
      .catch((err: unknown) => {
        if (!failing) log.warn({ err }, "could not delete expired tokens (retried every second)");
        failing = true;
      })
      .finally(() => {
        running = undefined;
      });
  }, EXPIRY_EVERY_MS);
  timer.unref();
  return {
    // The batch in flight finishes first: the database is closed after it, not under it.
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** A start-up problem the operator can fix; main prints its message without a stack trace. */
export class ListenError extends Error {}

function listen(server: http.Server, port: number, host: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") reject(new ListenError(`${host}:${port} is already in use (${variable})`));
      else if (err.code === "EACCES") reject(new ListenError(`not allowed to listen on ${host}:${port} (${variable})`));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") reject(new ListenError(`cannot listen on ${host} (IDP_HOST)`));
      else reject(err);
    });
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Timeouts against slow and idle clients (IDP_REQUEST_TIMEOUT, IDP_KEEPALIVE_TIMEOUT), checked every second. */
function tune(server: http.Server, c: ConnectionSettings): void {
  server.requestTimeout = c.requestTimeoutMs;
  server.headersTimeout = c.requestTimeoutMs;
  // Above the idle timeout of the proxies in front (nginx: 60 s), so that a proxy never reuses a closing connection.
  server.keepAliveTimeout = c.keepAliveTimeoutMs;
  server.maxHeadersCount = 200;
}

/**
 * At most `max` open connections per client address, on all ports together (0: no limit); trusted proxies, which
 * carry everyone's connections, are not limited. A refused connection is closed at once, with one log line per
 * address and minute. Attach the listener it returns to every server's "connection" event.
 */
function connectionLimit(max: number, trusted: TrustedProxies, log: Logger, refused: () => void): (socket: net.Socket) => void {
  if (max <= 0) return () => undefined;
  const open = new Map<string, number>();
  const warned = new Map<string, number>();
  return (socket) => {
    const address = socket.remoteAddress ?? "";
    if (trusted.contains(address)) return;
    const n = (open.get(address) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      refused();
      const now = Date.now();
      if ((warned.get(address) ?? 0) < now - 60_000) {
        warned.set(address, now);
        if (warned.size > 10_000) warned.clear();
        log.warn({ address, max }, "connection refused: this address has IDP_MAX_CONNECTIONS_PER_ADDRESS connections open");
      }
      return;
    }
    open.set(address, n);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  };
}

/** `housekeeping`: this process deletes expired tokens and stale counters (in a pool of workers, worker 0 only). */
export async function startServers(services: Services, tls: TlsMaterial, o: { housekeeping: boolean } = { housekeeping: true }): Promise<RunningServer> {
  const { settings, log, lifecycle } = services;
  const callback = lifecycle.track(createApp(services).callback());
  const servers: http.Server[] = [];
  // A forwarded certificate chain is larger than Node's default 16 KiB of header fields allows.
  const maxHeaderSize = services.certificates.headers.length > 0 ? 64 * 1024 : undefined;

  const c = settings.connections;
  const limit = connectionLimit(c.maxPerAddress, settings.trustedProxies, log, () => services.metrics.connectionRefused());
  const httpsServer = (requestCert: boolean) => {
    const server = https.createServer({
      key: tls.key, cert: tls.cert, requestCert, rejectUnauthorized: false, minVersion: "TLSv1.2", ...(maxHeaderSize && { maxHeaderSize }),
      handshakeTimeout: c.handshakeTimeoutMs, connectionsCheckingInterval: CHECK_EVERY_MS,
    }, callback);
    tune(server, c);
    server.on("connection", limit);
    // A connection's client certificate is read once (http/client-certificate.ts): it must not change underneath.
    server.on("secureConnection", (socket) => {
      socket.disableRenegotiation();
      if (requestCert) services.certificates.rememberChain(socket);
      else services.certificates.noCertificateAsked(socket);
    });
    // A TLS handshake that fails (a scanner, a client that rejects our certificate) is not an application error.
    server.on("tlsClientError", (err) => log.debug({ err: err.message }, "TLS handshake failed"));
    return server;
  };
  const secure = httpsServer(settings.httpsClientCert === "request");
  const httpsPort = await listen(secure, settings.httpsPort, settings.host, "IDP_HTTPS_PORT");
  servers.push(secure);

  const closeAll = () => Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  let mtlsPort: number | undefined;
  if (settings.mtlsPort !== undefined) {
    const certificates = httpsServer(true);
    mtlsPort = await listen(certificates, settings.mtlsPort, settings.host, "IDP_MTLS_PORT").catch(async (e: unknown) => {
      await closeAll();
      throw e;
    });
    servers.push(certificates);
  }
  let httpPort: number | undefined;
  if (settings.httpPort !== undefined) {
    const plain = http.createServer({ ...(maxHeaderSize && { maxHeaderSize }), connectionsCheckingInterval: CHECK_EVERY_MS }, callback);
    tune(plain, c);
    plain.on("connection", limit);
    httpPort = await listen(plain, settings.httpPort, settings.host, "IDP_HTTP_PORT").catch(async (e: unknown) => {
      await closeAll();
      throw e;
    });
    servers.push(plain);
  }

  services.metrics.collectProcessMetrics();
  let metricsPort: number | undefined;
  if (settings.metrics.port !== undefined) {
    const m = metricsServer(services.metrics, settings.metrics.token);
    metricsPort = await listen(m, settings.metrics.port, settings.host, "IDP_METRICS_PORT").catch(async (e: unknown) => {
      await closeAll();
      throw e;
    });
    servers.push(m);
  }

  const expiry = o.housekeeping ? sweepContinuously(services, log) : undefined;
  const guard = new BruteForceGuard(services.db.prisma);
  const sweep = o.housekeeping ? setInterval(() => {
    guard.sweep().catch((err: unknown) => log.warn({ err }, "could not delete stale login failure counters"));
  }, SWEEP_EVERY_MS) : undefined;
  sweep?.unref();

  return {
    httpsPort,
    httpPort,
    mtlsPort,
    metricsPort,
    async shutdown({ delayMs, timeoutMs }) {
      lifecycle.beginDrain();
      clearInterval(sweep);
      await expiry?.stop();
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      // close() stops accepting and closes the idle kept-alive connections; busy ones close after their answer.
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      const done = await lifecycle.idle(timeoutMs);
      const unfinished = lifecycle.active;
      if (!done) log.warn({ unfinished, timeoutMs }, "shutdown: requests still unanswered when IDP_SHUTDOWN_TIMEOUT was up");
      for (const s of servers) s.closeAllConnections();
      await closed;
      return { unfinished };
    },
  };
}
