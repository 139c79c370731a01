// IDP_WORKERS (issue #13, item 4): the real `x509-idp serve` with two worker processes on the same port. Both workers
// answer; a client disabled through one is refused by the other at once; /metrics adds up both; a second server on
// the same SQLite folder is still refused; two workers writing at once never surface SQLITE_BUSY; a killed worker is
// replaced; SIGTERM to the primary drains every worker (requests already accepted are answered) and all exit.
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, fetch } from "undici";
import { freshDatabase, testDbKind, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/ports.ts";
import { serveProcess, type ServeProcess } from "../helpers/serve-process.ts";

const PASSWORD = "workers-admin-password";
const METRICS_TOKEN = "workers-metrics-token-0123456789";

let db: TestDatabase;
let server: ServeProcess;
let port: number;
let ca: string;
let url: string;

/** The primary's worker processes now. */
const workerPids = (pid: number): number[] => {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return children ? children.split(/\s+/).map(Number).sort((a, b) => a - b) : [];
};

/** A request on a connection of its own: the primary hands each connection to the next worker. */
async function fresh(p: string, init: { method?: string; headers?: Record<string, string>; body?: URLSearchParams | string } = {}) {
  const agent = new Agent({ connect: { ca } });
  try {
    const res = await fetch(`${url}${p}`, { ...init, dispatcher: agent });
    return { status: res.status, text: await res.text() };
  } finally {
    await agent.close();
  }
}

/** Workers named in the request log lines (IDP_LOG_LEVEL=debug) written after `from` characters of output. */
const servingWorkers = (from: number, path: string): Set<number> => {
  const seen = new Set<number>();
  for (const line of server.output().slice(from).split("\n")) {
    if (!line.includes('"msg":"request"') || !line.includes(`"path":"${path}"`)) continue;
    seen.add((JSON.parse(line) as { worker: number }).worker);
  }
  return seen;
};

const grant = (client: string, secret: string) =>
  fresh("/realms/master/protocol/openid-connect/token", { method: "POST", headers: { authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString("base64")}` }, body: new URLSearchParams({ grant_type: "client_credentials" }) });
const adminToken = async () => (JSON.parse((await fresh("/realms/master/protocol/openid-connect/token", { method: "POST", body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: PASSWORD }) })).text) as { access_token: string }).access_token;
const admin = async (method: string, p: string, body?: unknown) =>
  fresh(`/admin/realms${p}`, { method, headers: { authorization: `Bearer ${await adminToken()}`, ...(body !== undefined && { "content-type": "application/json" }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });

beforeAll(async () => {
  db = await freshDatabase();
  port = await freePort();
  url = `https://localhost:${port}`;
  server = serveProcess(db, {
    env: {
      IDP_WORKERS: "2", IDP_HTTPS_PORT: String(port), IDP_PUBLIC_URL: url, IDP_ADMIN_PASSWORD: PASSWORD, IDP_DEMO: "false", IDP_LOG_LEVEL: "debug",
      IDP_METRICS_TOKEN: METRICS_TOKEN, IDP_SHUTDOWN_DELAY: "0", IDP_SHUTDOWN_TIMEOUT: "10",
    },
  });
  await server.listening(port);
  for (let i = 0; i < 100 && !server.output().includes("all workers listening"); i++) await new Promise((r) => setTimeout(r, 100));
  ca = fs.readFileSync(path.join(db.dataDir, "tls", "ca.crt"), "utf8");
}, 120_000);

afterAll(async () => {
  if (server?.child.exitCode === null) {
    server.child.kill("SIGKILL");
    await server.exited;
  }
  await db?.drop();
});

describe("IDP_WORKERS=2", () => {
  it("two workers answer on one port; the banner is printed once", async () => {
    expect(workerPids(server.child.pid ?? 0)).toHaveLength(2);
    const from = server.output().length;
    for (let i = 0; i < 8; i++) expect((await fresh("/health/live")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect([...servingWorkers(from, "/health/live")].sort()).toEqual([0, 1]);
    expect(server.output().match(/x509-idp is listening on/g)).toHaveLength(1);
    expect(server.output()).toContain("with 2 worker processes");
  });

  it("a client disabled through one worker is refused by the other at once", async () => {
    const created = await admin("POST", "/master/clients", { clientId: "job", secret: "job-secret-0123456789", serviceAccountsEnabled: true, standardFlowEnabled: false });
    expect(created.status, created.text).toBe(201);
    // Both workers have the client cached.
    for (let i = 0; i < 4; i++) expect((await grant("job", "job-secret-0123456789")).status).toBe(200);
    const [job] = JSON.parse((await admin("GET", "/master/clients?clientId=job")).text) as { id: string }[];
    const t0 = Date.now();
    expect((await admin("PUT", `/master/clients/${job?.id}`, { enabled: false })).status).toBe(204);
    // Without the workers' change feed the other worker would go on for up to 5 s (the registry's re-check).
    const statuses: number[] = [];
    while (statuses.length < 6 && Date.now() - t0 < 3000) {
      const s = (await grant("job", "job-secret-0123456789")).status;
      if (s === 200) statuses.length = 0;
      else statuses.push(s);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it("/metrics adds up both workers' counters", async () => {
    const count = async () => {
      const m = await fresh("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(m.status).toBe(200);
      const line = m.text.split("\n").find((l) => l.startsWith('http_server_requests_seconds_count{') && l.includes('uri="/health/ready"') && l.includes('status="200"'));
      return Number(line?.split(" ").pop() ?? 0);
    };
    const before = await count();
    const from = server.output().length;
    for (let i = 0; i < 10; i++) expect((await fresh("/health/ready")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(servingWorkers(from, "/health/ready").size).toBe(2);
    expect(await count()).toBe(before + 10);
  });

  it.skipIf(testDbKind !== "sqlite")("another server on the same SQLite folder is refused while the workers serve", async () => {
    const other = serveProcess(db, { env: { IDP_HTTPS_PORT: String(await freePort()), IDP_DEMO: "false" } });
    expect(await other.exited).toBe(2);
    expect(other.output()).toMatch(/another x509-idp \(pid \d+ .*\) serves the SQLite database/);
  });

  it("two workers writing at once (logins, and transactions that read before they write): all stored, no SQLITE_BUSY", async () => {
    const agents = Array.from({ length: 8 }, () => new Agent({ connect: { ca }, connections: 1 }));
    const bearer = `Bearer ${await adminToken()}`;
    try {
      const body = new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: PASSWORD }).toString();
      const logins = Array.from({ length: 48 }, (_, i) => fetch(`${url}/realms/master/protocol/openid-connect/token`, {
        method: "POST", dispatcher: agents[i % agents.length], headers: { "content-type": "application/x-www-form-urlencoded" }, body,
      }).then((r) => r.status));
      // Creating a user reads (is the name taken?) and then writes, in one transaction.
      const users = Array.from({ length: 48 }, (_, i) => fetch(`${url}/admin/realms/master/users`, {
        method: "POST", dispatcher: agents[i % agents.length], headers: { authorization: bearer, "content-type": "application/json" }, body: JSON.stringify({ username: `busy-${i}` }),
      }).then(async (r) => `${r.status}${r.ok ? "" : await r.text()}`));
      const [l, u] = await Promise.all([Promise.all(logins), Promise.all(users)]);
      expect(l.filter((s) => s !== 200)).toEqual([]);
      expect(u.filter((s) => s !== "201")).toEqual([]);
    } finally {
      await Promise.all(agents.map((a) => a.close()));
    }
    const events = JSON.parse((await admin("GET", "/master/events?type=LOGIN&max=1000")).text) as unknown[];
    expect(events.length).toBeGreaterThanOrEqual(48);
    expect(JSON.parse((await admin("GET", "/master/users?search=busy-&max=100")).text)).toHaveLength(48);
    expect(server.output()).not.toMatch(/SQLITE_BUSY|database is locked/);
  });

  it("a killed worker is replaced, and requests go on being answered", async () => {
    const before = workerPids(server.child.pid ?? 0);
    process.kill(before[0] ?? 0, "SIGKILL");
    let after: number[] = [];
    for (let i = 0; i < 150; i++) {
      after = workerPids(server.child.pid ?? 0);
      if (after.length === 2 && !after.includes(before[0] ?? 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(after).toHaveLength(2);
    expect(after).not.toContain(before[0]);
    expect(after).toContain(before[1]);
    expect(server.output()).toContain("worker exited; starting another");
    // The replacement listens once it has started.
    for (let i = 0; i < 100 && (server.output().match(/"msg":"started"/g) ?? []).length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    const from = server.output().length;
    for (let i = 0; i < 8; i++) expect((await fresh("/health/ready")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(servingWorkers(from, "/health/ready").size).toBe(2);
  }, 60_000);

  it("SIGTERM to the primary drains every worker: requests already accepted are answered, then all exit 0", async () => {
    const pids = workerPids(server.child.pid ?? 0);
    const body = new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: PASSWORD }).toString();
    // Four requests whose bodies are only half sent when the signal comes, on four connections (both workers).
    const sockets = await Promise.all(Array.from({ length: 4 }, async () => {
      const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca });
      await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      let raw = "";
      socket.on("data", (d: Buffer) => (raw += d.toString()));
      socket.write(`POST /realms/master/protocol/openid-connect/token HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`);
      return { socket, raw: () => raw };
    }));
    await new Promise((r) => setTimeout(r, 300));
    const from = server.output().length;
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    for (const s of sockets) s.socket.write(body.slice(20));
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.socket.once("close", () => resolve()))));
    for (const s of sockets) {
      expect(s.raw()).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(s.raw()).toContain('"access_token"');
    }
    expect(await server.exited).toBe(0);
    expect(servingWorkers(from, "/realms/master/protocol/openid-connect/token").size).toBe(2);
    for (const pid of pids) expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    expect(server.output()).not.toMatch(/"level":50(?![^\n]*worker exited)/);
  }, 60_000);
});
