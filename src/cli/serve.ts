// `x509-idp serve`: migrate, bootstrap on first start, then serve HTTPS (and HTTP when configured) until a signal.
import path from "node:path";
import { bootstrap, DEMO_REALM, type BootstrapResult } from "../bootstrap.ts";
import type { Settings } from "../config/env.ts";
import { startServers, type RunningServer } from "../http/server.ts";
import { loadTls } from "../http/tls.ts";
import type { Logger } from "../log.ts";
import { createServices, type Services } from "../services.ts";

export interface Started {
  services: Services;
  server: RunningServer;
  boot: BootstrapResult;
  trustFile: string;
  stop(): Promise<void>;
}

/** Starts everything; used by `serve` and by the integration tests. */
export async function start(settings: Settings, log: Logger): Promise<Started> {
  const services = await createServices(settings, log);
  try {
    const boot = await bootstrap(services.db.prisma, settings);
    const tls = await loadTls({ dataDir: settings.dataDir, certFile: settings.tlsCertFile, keyFile: settings.tlsKeyFile, publicHost: new URL(settings.publicUrl).hostname });
    const server = await startServers(services, tls);
    return {
      services,
      server,
      boot,
      trustFile: tls.trustFile,
      async stop() {
        await server.stop();
        await services.close();
      },
    };
  } catch (e) {
    await services.close();
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
    (s.server.httpPort !== undefined ? ` and http://${settings.host}:${s.server.httpPort}` : "") + ` (public URL ${settings.publicUrl})`];
  if (s.boot.adminPassword) {
    lines.push(`Created administrator "${settings.adminUser}" in realm master; password (shown once): ${s.boot.adminPassword}`);
  }
  if (s.boot.demo) {
    const d = s.boot.demo;
    lines.push(
      `Get a token from the ${DEMO_REALM} realm:`,
      `  curl -s --cacert ${shellPath(s.trustFile)} ${settings.publicUrl}/realms/${DEMO_REALM}/protocol/openid-connect/token \\`,
      `    -d grant_type=password -d client_id=${d.clientId} -d client_secret=${d.clientSecret} \\`,
      `    -d username=${d.username} -d password=${d.password} -d scope=openid`,
    );
  }
  return lines.join("\n");
}

export async function serve(settings: Settings, log: Logger): Promise<void> {
  const started = await start(settings, log);
  process.stderr.write(`${banner(started)}\n`);
  log.info({ httpsPort: started.server.httpsPort, httpPort: started.server.httpPort, db: started.services.db.provider }, "started");
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await started.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
