// A PostgreSQL outage (issue #12, item 3): a TCP forwarder in front of the database is stopped and started again.
// Meanwhile every endpoint answers 503 temporarily_unavailable with Retry-After (OAuth JSON, a page, or a redirect
// to the client), never 500; afterwards x509-idp recovers without a restart, and every login it acknowledged has
// its LOGIN event. (SQLite has no server to lose: its "busy beyond the timeout" maps to the same answer, unit-tested.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, formOf } from "../helpers/browser.ts";
import { freshDatabase, testDbKind, type TestDatabase } from "../helpers/db.ts";
import { APP_SECRET, REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { forwardTo, type Forwarder } from "../helpers/tcp-forwarder.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let db: TestDatabase;
let fwd: Forwarder;
let server: TestServer;

beforeAll(async () => {
  if (testDbKind !== "postgres") return;
  db = await freshDatabase();
  const forwarded = await forwardTo(db.url);
  fwd = forwarded.fwd;
  server = await startTestServer({ db: { ...db, url: forwarded.url } });
  await seedAcme(server);
});
afterAll(async () => {
  await server?.stop();
  await fwd?.close();
  await db?.drop();
});

const basic = `Basic ${Buffer.from(`web-app:${APP_SECRET}`).toString("base64")}`;
const grant = async () => {
  try {
    const res = await server.fetch("/realms/acme/protocol/openid-connect/token", {
      method: "POST", headers: { authorization: basic }, body: new URLSearchParams({ grant_type: "password", username: "alice", password: "alice-password", scope: "openid" }),
    });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, string> };
  } catch {
    return { status: 0, retryAfter: null, body: {} };
  }
};

describe.skipIf(testDbKind !== "postgres")("a database outage", () => {
  it("is 503 temporarily_unavailable everywhere, recovers without a restart, and loses no acknowledged login's event", async () => {
    let acknowledged = 0;
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    for (let i = 0; i < 5; i++) {
      const r = await grant();
      expect(r.status).toBe(200);
      acknowledged++;
    }
    const token = (await grant()).body.access_token ?? "";
    acknowledged++;
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);

    // Load keeps running across the outage and the recovery.
    let running = true;
    const background = (async () => {
      while (running) {
        const r = await grant();
        count(r.status);
        if (r.status === 200) acknowledged++;
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await fwd.stop();
    await new Promise((r) => setTimeout(r, 300));

    const g = await grant();
    expect(g).toMatchObject({ status: 503, retryAfter: "5", body: { error: "temporarily_unavailable" } });
    const cc = await server.fetch("/realms/acme/protocol/openid-connect/token", { method: "POST", headers: { authorization: basic }, body: new URLSearchParams({ grant_type: "client_credentials" }) });
    expect(cc.status).toBe(503);
    expect(((await cc.json()) as { error: string }).error).toBe("temporarily_unavailable");
    const info = await server.fetch("/realms/acme/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${token}` } });
    expect(info.status).toBe(503);
    const admin = await server.fetch("/admin/realms/acme/users", { headers: { authorization: `Bearer ${token}` } });
    expect(admin.status).toBe(503);
    expect(admin.headers.get("retry-after")).toBe("5");
    expect(((await admin.json()) as { error: string }).error).toBe("temporarily_unavailable");
    const ready = await server.fetch("/health/ready");
    expect(ready.status).toBe(503);
    // The browser: the authorization request answers the client "try again later", or a page saying so.
    const page = await new Browser(server.dispatcher).request((await authorizationRequest(config, REDIRECT)).url);
    if (page.status === 303) expect(page.location).toContain("error=temporarily_unavailable");
    else {
      expect(page.status).toBe(503);
      expect(page.body).toContain("temporarily unavailable");
    }

    await fwd.start();
    const back = Date.now();
    for (;;) {
      if ((await grant()).status === 200) {
        acknowledged++;
        break;
      }
      if (Date.now() - back > 10_000) throw new Error("no recovery within 10 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const recovered = Date.now() - back;
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await background;
    expect(recovered).toBeLessThan(5000);
    expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);

    // The browser login works again, and every acknowledged grant has its LOGIN event.
    const browser = new Browser(server.dispatcher);
    const req = await authorizationRequest(config, REDIRECT);
    const form = formOf(await browser.navigate(req.url, REDIRECT), "kc-form-login");
    expect((await browser.navigate(form.action, REDIRECT, { form: { ...form.fields, username: "alice", password: "alice-password" } })).location).toMatch(/^https:\/\/app\.example\.test\/callback\?code=/);
    await server.started.services.events.flush();
    const realm = await server.started.services.db.prisma.realm.findUniqueOrThrow({ where: { name: "acme" } });
    const logins = await server.started.services.db.prisma.event.count({ where: { realmId: realm.id, type: "LOGIN", clientId: "web-app", details: { path: ["grant_type"], equals: "password" } } });
    expect(logins).toBeGreaterThanOrEqual(acknowledged);

    // What an operator's dashboard shows of it.
    const metrics = (await server.started.services.metrics.text()).body;
    expect(Number(/^x509idp_database_unavailable_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^x509idp_event_queue_depth 0$/m);
  }, 60_000);
});
