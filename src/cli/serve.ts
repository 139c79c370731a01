// `x509-idp serve`: migrate, bootstrap on first start, then serve HTTPS (and HTTP when configured) until a signal.
import path from "node:path";
import { lockForServing } from "../db/sqlite-lock.ts";
import { bootstrap, DEMO_REALM, type BootstrapResult, type DemoCredentials } from "../bootstrap.ts";
import { DEMO_SERVICE, type DemoPki } from "../demo/pki.ts";
import type { Settings } from "../config/env.ts";
import { startServers, type RunningServer } from "../http/server.ts";
import { loadTls } from "../http/tls.ts";
import type { Logger } from "../log.ts";
import { createServices, type Services } from "../services.ts";
import { reportReady, workerRole, type WorkerRole } from "./workers.ts";

export interface Started {
  services: Services;
  server: RunningServer;
  boot: BootstrapResult;
  trustFile: string;
  /** Graceful stop (see RunningServer.shutdown), then events flushed and the database closed. */
  stop(o?: { delayMs: number; timeoutMs: number }): Promise<void>;
}

/**
 * Starts everything; used by `serve` and by the integration tests. `role`: this process is a worker of a pool
 * (cli/workers.ts), whose primary holds the SQLite lock; only the pool's first worker migrates and bootstraps.
 */
export async function start(settings: Settings, log: Logger, role?: WorkerRole): Promise<Started> {
  // One server per SQLite database (db/sqlite-lock.ts); PostgreSQL serves any number of nodes.
  const lock = role ? undefined : lockForServing(settings.databaseUrl);
  const first = !role || role.first;
  let services: Services;
  try {
    services = await createServices(settings, log, { migrate: first, pooled: role !== undefined });
  } catch (e) {
    lock?.release();
    throw e;
  }
  try {
    const boot: BootstrapResult = first ? await bootstrap(services.db.prisma, settings) : { createdMaster: false, createdDemo: false };
    const tls = await loadTls({ dataDir: settings.dataDir, certFile: settings.tlsCertFile, keyFile: settings.tlsKeyFile, publicHost: new URL(settings.publicUrl).hostname });
    const server = await startServers(services, tls, { housekeeping: !role || role.slot === 0 });
    return {
      services,
      server,
      boot,
      trustFile: tls.trustFile,
      async stop(o = { delayMs: 0, timeoutMs: 5000 }) {
        await server.shutdown(o);
        await services.close();
        lock?.release();
      },
    };
  } catch (e) {
    await services.close();
    lock?.release();
    throw e;
  }
}

function shellPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

/** What a newcomer needs to see once the server is up (stderr, plain text). */
export function banner(s: Started): string {
  const { settings } = s.services;
  const lines = [`x509-idp is listening on https://${settings.host}:${s.server.httpsPort}` +
    (s.server.httpPort !== undefined ? ` and http://${settings.host}:${s.server.httpPort}` : "") +
    (s.server.mtlsPort !== undefined ? `, certificates on https://${settings.host}:${s.server.mtlsPort}` : "") + ` (public URL ${settings.publicUrl})` +
    (settings.workers > 1 ? ` with ${settings.workers} worker processes` : "")];
  if (s.boot.adminPassword) {
    lines.push(`Created administrator "${settings.adminUser}" in realm master; password (shown once): ${s.boot.adminPassword}`);
  }
  if (s.boot.demo) lines.push(...demoInstructions(settings.publicUrl, s.trustFile, s.boot.demo, s.boot.demoPki, { service: s.boot.demoService === true, mtlsUrl: settings.mtlsPublicUrl }));
  return lines.join("\n");
}

/** How to use the demo realm: a password token, a certificate token (direct grant over mutual TLS), the browser. */
export function demoInstructions(publicUrl: string, trustFile: string, d: DemoCredentials, pki: DemoPki | undefined, o: { service: boolean; mtlsUrl?: string | undefined } = { service: true }): string[] {
  const token = `${publicUrl}/realms/${DEMO_REALM}/protocol/openid-connect/token`;
  // Requests with a client certificate go to the certificate listener when there is one (RFC 8705 §5).
  const mtlsToken = `${o.mtlsUrl ?? publicUrl}/realms/${DEMO_REALM}/protocol/openid-connect/token`;
  const lines = [
    `Get a token from the ${DEMO_REALM} realm with a password:`,
    `  curl -s --cacert ${shellPath(trustFile)} ${token} \\`,
    `    -d grant_type=password -d client_id=${d.clientId} -d client_secret=${d.clientSecret} \\`,
    `    -d username=${d.username} -d password=${d.password} -d scope=openid`,
  ];
  if (pki) {
    lines.push(
      `or with the ${d.username} user's client certificate (no password):`,
      `  curl -s --cacert ${shellPath(trustFile)} --cert ${shellPath(pki.certFile)} --key ${shellPath(pki.keyFile)} ${mtlsToken} \\`,
      `    -d grant_type=password -d client_id=${d.clientId} -d client_secret=${d.clientSecret} -d scope=openid`,
      `In a browser, import ${shellPath(pki.p12File)} (password ${d.password}) and trust ${shellPath(trustFile)}, then open`,
      `  ${publicUrl}/realms/${DEMO_REALM}/protocol/openid-connect/auth?client_id=${d.clientId}&response_type=code&scope=openid&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2F`,
    );
    if (o.service) {
      lines.push(
        `A service gets a token with its certificate alone (client credentials, RFC 8705 tls_client_auth):`,
        `  curl -s --cacert ${shellPath(trustFile)} --cert ${shellPath(pki.serviceCertFile)} --key ${shellPath(pki.serviceKeyFile)} ${mtlsToken} \\`,
        `    -d grant_type=client_credentials -d client_id=${DEMO_SERVICE.clientId}`,
      );
    }
  }
  return lines;
}

export async function serve(settings: Settings, log: Logger): Promise<void> {
  const role = workerRole();
  if (role) log = log.child({ worker: role.slot });
  // The signals are taken before the listeners open: a SIGTERM that comes as soon as the port answers (a supervisor,
  // a test) stops the server cleanly instead of killing it.
  let started: Started | undefined;
  let requested: string | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping || !started) return;
    stopping = true;
    log.info({ signal, ...settings.shutdown }, "stopping: draining requests");
    await started.stop(settings.shutdown);
    log.info({ signal }, "stopped");
    process.exit(0);
  };
  const onSignal = (signal: string) => {
    if (started) void stop(signal);
    else requested ??= signal;
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  started = await start(settings, log, role);
  if (!role || role.first) process.stderr.write(`${banner(started)}\n`);
  const { httpsPort, httpPort, mtlsPort, metricsPort } = started.server;
  log.info({ httpsPort, httpPort, mtlsPort, db: started.services.db.provider }, "started");
  if (role) reportReady({ httpsPort, ...(httpPort !== undefined && { httpPort }), ...(mtlsPort !== undefined && { mtlsPort }), ...(metricsPort !== undefined && { metricsPort }) });
  if (requested) await stop(requested);
}
