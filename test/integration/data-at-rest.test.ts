// What a copy of the data folder or the database gives away (issue #11, item 4): the data folder is the server
// account's alone (0700 folders, 0600 files, whatever the umask); the database holds no live token, session cookie,
// private signing key or cookie key, only hashes and sealed values; rows an older release wrote in clear are re-keyed
// and sealed at start (the tokens keep working); IDP_SECRET_KEY can be rotated with IDP_SECRET_KEY_PREVIOUS.
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { SecretBox, SEALED } from "../../src/config/secret-box.ts";
import { storageId } from "../../src/oidc/adapter.ts";
import { Browser } from "../helpers/browser.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { APP_SECRET, REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { freePort } from "../helpers/ports.ts";
import { serveProcess } from "../helpers/serve-process.ts";
import { loginWithPassword, relyingParty } from "../helpers/rp.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

const KEY_A = "rotation-test-key-A-at-least-32-characters";
const KEY_B = "rotation-test-key-B-at-least-32-characters";

async function fresh(): Promise<TestDatabase> {
  const db = await freshDatabase();
  cleanup.push(() => db.drop());
  return db;
}

/** Every path under `dir` with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: ".", dir: true, mode: fs.statSync(dir).mode & 0o777 }];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push({ path: path.relative(dir, p), dir: e.isDirectory(), mode: fs.lstatSync(p).mode & 0o777 });
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** The bytes of the database as stored: SQLite's files, or this database's PostgreSQL files and the WAL written since `since`. */
async function databaseFiles(db: TestDatabase, since: number): Promise<Buffer[]> {
  if (db.kind === "sqlite") {
    const file = db.url.replace(/^file:/, "");
    return [file, `${file}-wal`, `${file}-shm`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
  }
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query("CHECKPOINT");
    const dataDir = (await c.query<{ data_directory: string }>("SHOW data_directory")).rows[0]?.data_directory ?? "";
    const oid = (await c.query<{ oid: string }>("SELECT oid FROM pg_database WHERE datname = current_database()")).rows[0]?.oid ?? "";
    const files: Buffer[] = [];
    const base = path.join(dataDir, "base", String(oid));
    for (const f of fs.readdirSync(base)) files.push(fs.readFileSync(path.join(base, f)));
    const wal = path.join(dataDir, "pg_wal");
    for (const f of fs.readdirSync(wal)) {
      const p = path.join(wal, f);
      const st = fs.statSync(p);
      if (st.isFile() && st.mtimeMs >= since - 1000) files.push(fs.readFileSync(p));
    }
    return files;
  } finally {
    await c.end();
  }
}

const containsAny = (files: Buffer[], secrets: Record<string, string>) =>
  Object.entries(secrets).filter(([, s]) => files.some((f) => f.includes(Buffer.from(s, "utf8")))).map(([name]) => name);

describe("the data folder", () => {
  it("is the server account's alone, whatever the umask: folders 0700, files 0600, the SQLite files included", async () => {
    const db = await fresh();
    fs.chmodSync(db.dataDir, 0o755);
    fs.writeFileSync(path.join(db.dataDir, "left-by-an-older-release.txt"), "x", { mode: 0o644 });
    fs.chmodSync(path.join(db.dataDir, "left-by-an-older-release.txt"), 0o644);
    const port = await freePort();
    const server = serveProcess(db, { shellPrefix: "umask 022", env: { IDP_HTTPS_PORT: String(port) } });
    try {
      await server.listening(port);
      for (let i = 0; i < 50 && !server.output().includes("redirect_uri="); i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    const all = modes(db.dataDir);
    expect(all.map((m) => m.path)).toEqual(expect.arrayContaining(["secret.key", "tls", path.join("tls", "server.key"), "demo-pki", "demo-credentials.json", "left-by-an-older-release.txt"]));
    if (db.kind === "sqlite") expect(all.map((m) => m.path)).toEqual(expect.arrayContaining(["idp.db"]));
    const wrong = all.filter((m) => m.mode !== (m.dir ? 0o700 : 0o600)).map((m) => `${m.path} ${m.mode.toString(8)}`);
    expect(wrong).toEqual([]);
  });
});

describe("the database", () => {
  let server: TestServer;

  it("holds no live access, refresh or ID token, session cookie, private key or cookie key", async () => {
    const started = Date.now();
    const db = await fresh();
    server = await startTestServer({ db });
    cleanup.push(() => server.stop());
    await seedAcme(server);
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens } = await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const direct = await oidc.genericGrantRequest(config, "password", { username: "bob", password: "bob-password", scope: "openid" });
    expect((await server.fetch("/realms/acme/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
    const session = browser.cookies.get("X509IDP_SESSION")?.value ?? "";
    expect(session.length).toBeGreaterThan(20);

    const box = server.started.services.ldap.secrets;
    const realm = await server.started.services.db.prisma.realm.findUniqueOrThrow({ where: { name: "acme" } });
    const keys = await server.started.services.db.prisma.signingKey.findMany({ where: { realmId: realm.id } });
    expect(keys.length).toBe(2);
    const ds = keys.map((k) => (JSON.parse(box.open(k.privateJwk, SEALED.signingKey(realm.id, k.kid))) as { d: string }).d);
    const runtime = await server.started.services.registry.get("acme");
    const secrets = {
      access_token: tokens.access_token, refresh_token: tokens.refresh_token ?? "", direct_access_token: direct.access_token, direct_refresh_token: direct.refresh_token ?? "",
      id_token: tokens.id_token ?? "", session_cookie: session, es256_d: ds[0] ?? "", rs256_d: ds[1] ?? "", cookie_key: runtime?.cookieKeys[0] ?? "",
    };
    for (const [name, value] of Object.entries(secrets)) expect(value.length, name).toBeGreaterThan(20);
    // The rows are there, by hash; a JWT access token has none.
    expect(await server.started.services.db.prisma.oidcPayload.count({ where: { id: storageId(tokens.refresh_token ?? "") } })).toBe(1);
    expect(await server.started.services.db.prisma.oidcPayload.count({ where: { id: storageId(tokens.access_token) } })).toBe(0);
    const files = await databaseFiles(db, started);
    // The files read are the database's: what is stored in clear is found in them.
    expect(containsAny(files, { realm_id: realm.id, email: "alice@example.org" })).toEqual(["realm_id", "email"]);
    expect(containsAny(files, secrets)).toEqual([]);
  });
});

describe("rows written in clear by an older release", () => {
  it("are re-keyed and sealed at start, and their tokens, sessions and keys keep working", async () => {
    const db = await fresh();
    const port = await freePort();
    const first = await startTestServer({ db, port });
    await seedAcme(first);
    // Older releases stored every access token: this client still does.
    await first.started.services.db.prisma.client.updateMany({ where: { clientId: "web-app" }, data: { accessTokenFormat: "opaque" } });
    const config = await relyingParty(first, "acme", "web-app", APP_SECRET);
    const tokens = await oidc.genericGrantRequest(config, "password", { username: "alice", password: "alice-password", scope: "openid" });
    const jwks = await (await first.fetch("/realms/acme/protocol/openid-connect/certs")).text();
    const box = first.started.services.ldap.secrets;
    const prisma = first.started.services.db.prisma;
    const realm = await prisma.realm.findUniqueOrThrow({ where: { name: "acme" } });
    // Back to the old format: ids and jti in clear, keys and cookie keys as JSON.
    for (const [value, model] of [[tokens.access_token, "AccessToken"], [tokens.refresh_token ?? "", "RefreshToken"]] as const) {
      const row = await prisma.oidcPayload.findUniqueOrThrow({ where: { realmId_model_id: { realmId: realm.id, model, id: storageId(value) } } });
      await prisma.oidcPayload.update({ where: { realmId_model_id: { realmId: realm.id, model, id: row.id } }, data: { id: value, payload: JSON.stringify({ ...JSON.parse(row.payload), jti: value }) } });
    }
    for (const k of await prisma.signingKey.findMany({ where: { realmId: realm.id } })) {
      await prisma.signingKey.update({ where: { kid: k.kid }, data: { privateJwk: box.open(k.privateJwk, SEALED.signingKey(realm.id, k.kid)) } });
    }
    await prisma.realm.update({ where: { id: realm.id }, data: { cookieKeys: box.open(realm.cookieKeys, SEALED.cookieKeys(realm.id)) } });
    await first.stop();

    const second = await startTestServer({ db, port });
    cleanup.push(() => second.stop());
    const p2 = second.started.services.db.prisma;
    expect(await p2.oidcPayload.count({ where: { id: { in: [tokens.access_token, tokens.refresh_token ?? ""] } } })).toBe(0);
    expect((await p2.signingKey.findMany({ where: { realmId: realm.id } })).every((k) => SecretBox.isSealed(k.privateJwk))).toBe(true);
    expect(SecretBox.isSealed((await p2.realm.findUniqueOrThrow({ where: { id: realm.id } })).cookieKeys)).toBe(true);
    expect(await (await second.fetch("/realms/acme/protocol/openid-connect/certs")).text()).toBe(jwks);
    expect((await second.fetch("/realms/acme/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
    const refreshed = await oidc.refreshTokenGrant(await relyingParty(second, "acme", "web-app", APP_SECRET), tokens.refresh_token ?? "");
    expect(refreshed.access_token).toBeTruthy();
  });
});

describe("rotating IDP_SECRET_KEY", () => {
  it("with the old key as IDP_SECRET_KEY_PREVIOUS everything is sealed again with the new one; an unknown key stops the start", async () => {
    const db = await fresh();
    const port = await freePort();
    const a = await startTestServer({ db, port, env: { IDP_SECRET_KEY: KEY_A } });
    await seedAcme(a);
    const tokens = await oidc.genericGrantRequest(await relyingParty(a, "acme", "web-app", APP_SECRET), "password", { username: "alice", password: "alice-password", scope: "openid" });
    const jwks = await (await a.fetch("/realms/acme/protocol/openid-connect/certs")).text();
    await a.stop();

    const b = await startTestServer({ db, port, env: { IDP_SECRET_KEY: KEY_B, IDP_SECRET_KEY_PREVIOUS: KEY_A } });
    const realm = await b.started.services.db.prisma.realm.findUniqueOrThrow({ where: { name: "acme" } });
    const onlyB = new SecretBox(KEY_B);
    for (const k of await b.started.services.db.prisma.signingKey.findMany({ where: { realmId: realm.id } })) {
      expect(() => onlyB.open(k.privateJwk, SEALED.signingKey(realm.id, k.kid))).not.toThrow();
    }
    expect(() => onlyB.open(realm.cookieKeys, SEALED.cookieKeys(realm.id))).not.toThrow();
    await b.stop();

    const b2 = await startTestServer({ db, port, env: { IDP_SECRET_KEY: KEY_B } });
    cleanup.push(() => b2.stop());
    expect(await (await b2.fetch("/realms/acme/protocol/openid-connect/certs")).text()).toBe(jwks);
    expect((await b2.fetch("/realms/acme/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
    await b2.stop();
    cleanup.pop();

    await expect(startTestServer({ db, port, env: { IDP_SECRET_KEY: "a-third-key-nobody-sealed-anything-with" } })).rejects.toThrow(/IDP_SECRET_KEY/);
  });
});
