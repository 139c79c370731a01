// kill -9 under load loses nothing acknowledged (issue #12, item 3): every token answered 200 before the kill has
// its event and is stored after a restart, on SQLite and PostgreSQL.
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Agent, fetch } from "undici";
import { openDatabase } from "../../src/db/database.ts";
import { storageId } from "../../src/oidc/adapter.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/ports.ts";
import { serveProcess } from "../helpers/serve-process.ts";

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

const PASSWORD = "crash-admin-password";

const serve = (db: TestDatabase, port: number) =>
  serveProcess(db, { env: { IDP_HTTPS_PORT: String(port), IDP_PUBLIC_URL: `https://localhost:${port}`, IDP_ADMIN_PASSWORD: PASSWORD, IDP_DEMO: "false" } });

describe("kill -9 under load", () => {
  it("every token answered before the kill has its event (CLIENT_LOGIN) and is stored", async () => {
    const db = await freshDatabase();
    dbs.push(db);
    const port = await freePort();
    const first = serve(db, port);
    await first.listening(port);
    const agent = new Agent({ connect: { ca: fs.readFileSync(path.join(db.dataDir, "tls", "ca.crt"), "utf8") }, connections: 8 });
    const base = `https://localhost:${port}`;
    const admin = (await (await fetch(`${base}/realms/master/protocol/openid-connect/token`, { method: "POST", dispatcher: agent, body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: PASSWORD }) })).json()) as { access_token: string };
    const created = await fetch(`${base}/admin/realms/master/clients`, {
      method: "POST", dispatcher: agent, headers: { authorization: `Bearer ${admin.access_token}`, "content-type": "application/json" },
      // Opaque tokens are stored rows: each one answered must be found after the kill (a JWT is not stored).
      body: JSON.stringify({ clientId: "batch-job", secret: "batch-secret", serviceAccountsEnabled: true, standardFlowEnabled: false, attributes: { "access.token.format": "opaque" } }),
    });
    expect(created.status).toBe(201);
    const basic = `Basic ${Buffer.from("batch-job:batch-secret").toString("base64")}`;
    const tokens: string[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          // Client credentials: the fastest grant, so that many answers are in flight when the kill comes.
          const res = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
            method: "POST", dispatcher: agent, headers: { authorization: basic }, body: new URLSearchParams({ grant_type: "client_credentials" }),
          });
          const body = (await res.json()) as { access_token?: string };
          if (res.status === 200 && body.access_token) tokens.push(body.access_token);
        } catch {
          // the kill: connections reset
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill("SIGKILL");
    await first.exited;
    running = false;
    await Promise.all(workers);
    await agent.close().catch(() => undefined);
    expect(tokens.length).toBeGreaterThan(5);

    const opened = await openDatabase(db.url);
    try {
      const master = await opened.prisma.realm.findUniqueOrThrow({ where: { name: "master" } });
      const logins = await opened.prisma.event.count({ where: { realmId: master.id, type: "CLIENT_LOGIN" } });
      expect(logins).toBeGreaterThanOrEqual(tokens.length);
      let stored = 0;
      for (let i = 0; i < tokens.length; i += 500) {
        stored += await opened.prisma.oidcPayload.count({ where: { realmId: master.id, model: "ClientCredentials", id: { in: tokens.slice(i, i + 500).map(storageId) } } });
      }
      expect(stored).toBe(tokens.length);
    } finally {
      await opened.close();
    }
    // And it starts again cleanly.
    const second = serve(db, port);
    await second.listening(port);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 120_000);
});
