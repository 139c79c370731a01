// The HTTPS server asks every client for a certificate but serves clients without one; the optional plain HTTP port
// (for a TLS-terminating proxy) serves the same application; expired provider records are invisible and swept.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, fetch } from "undici";
import { prismaAdapter, storageId, sweepExpired, SWEEP_BATCH } from "../../src/oidc/adapter.ts";
import { RealmStore } from "../../src/realms/realm-store.ts";
import { tempDir } from "../helpers/db.ts";
import { freePort, startTestServer, type TestServer } from "../helpers/server.ts";

const run = promisify(execFile);
let server: TestServer;
let httpPort: number;

beforeAll(async () => {
  httpPort = await freePort();
  server = await startTestServer({ env: { IDP_HTTP_PORT: String(httpPort) } });
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

describe("HTTPS", () => {
  it("requests a client certificate during the handshake", async () => {
    const { stdout } = await run("sh", ["-c", `openssl s_client -connect 127.0.0.1:${server.port} -servername localhost </dev/null 2>/dev/null`]);
    // OpenSSL prints this section only when the server sent a CertificateRequest.
    expect(stdout).toMatch(/client certificate CA names/);
  });

  it("serves clients with and without a certificate", async () => {
    const dir = tempDir();
    await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=someone",
      "-keyout", path.join(dir, "client.key"), "-out", path.join(dir, "client.crt")]);
    const withCert = new Agent({ connect: { ca: server.ca, cert: fs.readFileSync(path.join(dir, "client.crt")), key: fs.readFileSync(path.join(dir, "client.key")) } });
    const res = await fetch(`${server.base}/realms/demo/.well-known/openid-configuration`, { dispatcher: withCert });
    expect(res.status).toBe(200);
    await withCert.close();
    expect((await server.fetch("/realms/demo/.well-known/openid-configuration")).status).toBe(200);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("plain HTTP port", () => {
  it("serves the same realms, with the public (https) issuer", async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/realms/demo/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(`${server.base}/realms/demo`);
    expect((await fetch(`http://127.0.0.1:${httpPort}/health/ready`)).status).toBe(200);
  });
});

describe("realm registry", () => {
  it("remembers only realms that exist", async () => {
    const { registry } = server.started.services;
    await server.fetch("/realms/demo/.well-known/openid-configuration");
    const before = registry.size;
    for (let i = 0; i < 50; i++) expect((await server.fetch(`/realms/ghost-${i}/.well-known/openid-configuration`)).status).toBe(404);
    expect(registry.size).toBe(before);
  });
});

describe("provider storage", () => {
  /** `count` rows of `model` in the demo realm expiring at `expiresAt`; the realm's id. */
  const storeExpiring = async (prefix: string, model: string, count: number, expiresAt: Date) => {
    const prisma = server.started.services.db.prisma;
    const realmId = (await new RealmStore(prisma).findByName("demo"))?.id ?? "";
    await prisma.oidcPayload.createMany({ data: Array.from({ length: count }, (_, i) => ({ realmId, model, id: storageId(`${prefix}-${i}`), payload: "{}", expiresAt })) });
    return realmId;
  };

  it("hides expired records at once and deletes them on the sweep", async () => {
    const prisma = server.started.services.db.prisma;
    const realm = await new RealmStore(prisma).findByName("demo");
    const adapter = prismaAdapter(prisma, realm?.id ?? "", async () => undefined)("AccessToken");
    await adapter.upsert("live", { jti: "live", grantId: "g1" }, 60);
    await adapter.upsert("dead", { jti: "dead", grantId: "g1" }, 1);
    await prisma.oidcPayload.updateMany({ where: { id: storageId("dead") }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await adapter.find("dead")).toBeUndefined();
    expect(await adapter.find("live")).toMatchObject({ jti: "live" });
    expect((await sweepExpired(prisma)).more).toBe(false);
    expect(await prisma.oidcPayload.count({ where: { id: storageId("dead") } })).toBe(0);
    expect(await prisma.oidcPayload.count({ where: { id: storageId("live") } })).toBe(1);
    await adapter.consume("live");
    expect(await adapter.find("live")).toMatchObject({ consumed: expect.any(Number) });
    await adapter.revokeByGrantId("g1");
    expect(await adapter.find("live")).toBeUndefined();
  });

  it("the running server deletes expired records within seconds, on its own", async () => {
    const prisma = server.started.services.db.prisma;
    const realmId = await storeExpiring("lapsed", "AccessToken", 600, new Date(Date.now() - 1000));
    const deadline = Date.now() + 5000;
    let left = Infinity;
    while (left > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = await prisma.oidcPayload.count({ where: { realmId, expiresAt: { lt: new Date() } } });
    }
    expect(left).toBe(0);
  });

  // The server under test sweeps every second too: these rows expire an hour ahead and are swept "two hours from now"
  // (which deletes the other tests' tokens as well: at least these rows, then).
  it("sweeps thousands of expired records in batches, and nothing that is still live", async () => {
    const prisma = server.started.services.db.prisma;
    const later = new Date(Date.now() + 7_200_000);
    const expired = SWEEP_BATCH * 12 + 37;
    const realmId = await storeExpiring("expired", "AccessToken", expired, new Date(Date.now() + 3_600_000));
    const adapter = prismaAdapter(prisma, realmId, async () => undefined)("AccessToken");
    await adapter.upsert("still-live", { jti: "still-live" }, 3 * 3600);
    const swept = await sweepExpired(prisma, later);
    expect(swept.more).toBe(false);
    expect(swept.deleted).toBeGreaterThanOrEqual(expired);
    expect(await prisma.oidcPayload.count({ where: { expiresAt: { lt: later } } })).toBe(0);
    expect(await adapter.find("still-live")).toMatchObject({ jti: "still-live" });
  });

  it("stops sweeping when its time budget is spent and says that more is left", async () => {
    const prisma = server.started.services.db.prisma;
    const later = new Date(Date.now() + 7_200_000);
    await storeExpiring("budget", "Grant", SWEEP_BATCH * 3 + 1, new Date(Date.now() + 3_600_000));
    const left = async () => prisma.oidcPayload.count({ where: { expiresAt: { lt: later } } });
    const before = await left();
    expect(await sweepExpired(prisma, later, 0)).toEqual({ deleted: SWEEP_BATCH, more: true });
    expect(await left()).toBe(before - SWEEP_BATCH);
    expect(await sweepExpired(prisma, later)).toEqual({ deleted: before - SWEEP_BATCH, more: false });
    expect(await left()).toBe(0);
  });
});
