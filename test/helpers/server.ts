// Starts the real server in-process (HTTPS on a free loopback port, real database) and gives tests an HTTP client
// that trusts its certificate.
import fs from "node:fs";
import net from "node:net";
import { Agent, fetch, type RequestInit, type Response } from "undici";
import { loadSettings, type Settings } from "../../src/config/env.ts";
import { createLogger } from "../../src/log.ts";
import { start, type Started } from "../../src/cli/serve.ts";
import { freshDatabase, type TestDatabase } from "./db.ts";
import { freePort } from "./ports.ts";

export const ADMIN_PASSWORD = "admin-password-for-tests";

export { freePort };

export interface TestServer {
  base: string;
  port: number;
  db: TestDatabase;
  settings: Settings;
  started: Started;
  dispatcher: Agent;
  ca: string;
  issuer(realm: string): string;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** A bearer token of the master realm's administrator (admin-cli, direct grant). */
  adminToken(): Promise<string>;
  /** Calls the admin API with an administrator's token. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** A client presenting a certificate (PEM chain, leaf first) over mutual TLS. */
  withCertificate(certPem: string, keyPem: string): MtlsClient;
  stop(): Promise<void>;
}

export interface MtlsClient {
  dispatcher: Agent;
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

export interface TestServerOptions {
  db?: TestDatabase;
  port?: number;
  env?: Record<string, string>;
}

export async function startTestServer(o: TestServerOptions = {}): Promise<TestServer> {
  const db = o.db ?? (await freshDatabase());
  const port = o.port ?? (await freePort());
  const settings = loadSettings({
    IDP_DATA_DIR: db.dataDir,
    DATABASE_URL: db.url,
    IDP_HOST: "127.0.0.1",
    IDP_HTTPS_PORT: String(port),
    IDP_PUBLIC_URL: `https://localhost:${port}`,
    IDP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IDP_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "error",
    ...o.env,
  });
  const started = await start(settings, createLogger(settings.logLevel, process.stderr));
  const ca = fs.readFileSync(started.trustFile, "utf8");
  const dispatcher = new Agent({ connect: { ca } });
  const agents: Agent[] = [];
  const base = settings.publicUrl;
  const doFetch = (url: string, init: RequestInit = {}) => fetch(url.startsWith("/") ? `${base}${url}` : url, { redirect: "manual", ...init, dispatcher });
  let token: string | undefined;
  const adminToken = async () => {
    if (token) return token;
    const res = await doFetch("/realms/master/protocol/openid-connect/token", {
      method: "POST",
      body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: ADMIN_PASSWORD }),
    });
    const json = (await res.json()) as { access_token?: string };
    if (!json.access_token) throw new Error(`no admin token: ${JSON.stringify(json)}`);
    token = json.access_token;
    return token;
  };
  return {
    base,
    port,
    db,
    settings,
    started,
    dispatcher,
    ca,
    issuer: (realm) => `${base}/realms/${realm}`,
    fetch: doFetch,
    adminToken,
    async admin(method, path, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${await adminToken()}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      return doFetch(path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    },
    withCertificate(certPem, keyPem) {
      const agent = new Agent({ connect: { ca, cert: certPem, key: keyPem } });
      agents.push(agent);
      return { dispatcher: agent, fetch: (url, init = {}) => fetch(url.startsWith("/") ? `${base}${url}` : url, { redirect: "manual", ...init, dispatcher: agent }) };
    },
    async stop() {
      await started.stop();
      await dispatcher.close();
      await Promise.all(agents.map((a) => a.close()));
    },
  };
}
