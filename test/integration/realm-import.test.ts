// Realm import and export: validated with messages that name the bad field, atomic (all or nothing), idempotent
// (matched by name, updated in place), and an export imports into a fresh database with working credentials.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportRealm } from "../../src/admin/export.ts";
import { importRealm } from "../../src/admin/import.ts";
import { ValidationError } from "../../src/admin/errors.ts";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { runCli } from "../helpers/cli.ts";
import { freshDatabase, tempDir, type TestDatabase } from "../helpers/db.ts";
import { acmeRealm, APP_SECRET } from "../helpers/fixtures.ts";
import { startTestServer } from "../helpers/server.ts";

let tdb: TestDatabase;
let db: Database;

beforeAll(async () => {
  tdb = await freshDatabase();
  db = await openDatabase(tdb.url);
});
afterAll(async () => {
  await db?.close();
  await tdb?.drop();
});

async function counts(realm: string) {
  const r = await db.prisma.realm.findUnique({ where: { name: realm } });
  if (!r) return undefined;
  return {
    clients: await db.prisma.client.count({ where: { realmId: r.id } }),
    users: await db.prisma.user.count({ where: { realmId: r.id } }),
    attributes: await db.prisma.userAttribute.count({ where: { realmId: r.id } }),
  };
}

const snapshot = async (realm: string) => {
  const rep = await exportRealm(db.prisma, realm);
  return rep && JSON.parse(JSON.stringify(rep, (k, v) => (k === "secretHash" || k === "hash" ? "<hash>" : v)));
};

describe("realm import", () => {
  it("is idempotent: importing the same file twice changes nothing", async () => {
    const first = await importRealm(db.prisma, acmeRealm());
    expect(first).toMatchObject({ realm: "acme", created: true, users: { created: 3, updated: 0 } });
    const before = await counts("acme");
    const exported = await exportRealm(db.prisma, "acme");
    const second = await importRealm(db.prisma, acmeRealm());
    expect(second).toMatchObject({ created: false, users: { created: 0, updated: 3 }, clients: { created: [], updated: ["web-app", "spa", "no-direct", "consent-app"] } });
    expect(await counts("acme")).toEqual(before);
    const after = await exportRealm(db.prisma, "acme");
    // Same clients and users; re-importing a plaintext password stores a new salt, so compare without hashes.
    const strip = (r: typeof after) => JSON.parse(JSON.stringify(r, (k, v) => (k === "secretHash" || k === "hash" ? undefined : v)));
    expect(strip(after)).toEqual(strip(exported));
  });

  it("updates by name: changed settings, attributes and profiles replace the stored ones; omitted credentials are kept", async () => {
    const rep = {
      ...acmeRealm({ displayName: "ACME Inc." }),
      users: [{ username: "alice", email: "alice@example.org", firstName: "Alicia", attributes: { team: ["red", "blue"] } }],
      clients: [{ clientId: "web-app", redirectUris: ["https://new.example.test/cb"], directAccessGrantsEnabled: true }],
    };
    await importRealm(db.prisma, rep);
    const out = await exportRealm(db.prisma, "acme");
    expect(out?.displayName).toBe("ACME Inc.");
    const alice = out?.users.find((u) => u.username === "alice");
    expect(alice).toMatchObject({ firstName: "Alicia", attributes: { team: ["red", "blue"] } });
    expect(alice?.credentials?.[0]?.hash).toMatch(/^\$argon2id\$/);
    const web = out?.clients.find((c) => c.clientId === "web-app");
    expect(web).toMatchObject({ redirectUris: ["https://new.example.test/cb"] });
    expect(web?.secretHash).toMatch(/^\$argon2id\$/);
    // Users not in the file are left alone.
    expect(out?.users.map((u) => u.username).sort()).toEqual(["alice", "bob", "carol"]);
  });

  it("refuses an invalid file, naming every bad field, and changes nothing", async () => {
    const before = await snapshot("acme");
    const bad = acmeRealm({ displayName: "Should not be applied" });
    (bad.users[1] as Record<string, unknown>).email = "not-an-email";
    (bad.clients[0] as Record<string, unknown>).redirectUris = ["relative/path"];
    (bad as Record<string, unknown>).accessTokenLifespan = -5;
    const err = await importRealm(db.prisma, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const message = (err as Error).message;
    expect(message).toContain("users[1].email");
    expect(message).toContain("clients[0].redirectUris[0]");
    expect(message).toContain("accessTokenLifespan");
    expect(await snapshot("acme")).toEqual(before);
  });

  it("rolls back everything when a later part conflicts with the database", async () => {
    await importRealm(db.prisma, { realm: "conflict", users: [{ username: "owner", email: "taken@example.org" }] });
    const before = await snapshot("conflict");
    const err = await importRealm(db.prisma, {
      realm: "conflict",
      displayName: "changed",
      clients: [{ clientId: "new-client", secret: "s" }],
      users: [{ username: "first", email: "first@example.org" }, { username: "thief", email: "TAKEN@example.org" }],
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('users[1].email: "taken@example.org" is already used by user "owner"');
    expect(await snapshot("conflict")).toEqual(before);
  });

  it("imports the README's example realm file", async () => {
    const file = path.resolve(import.meta.dirname, "../../examples/acme-realm.json");
    const summary = await importRealm(db.prisma, { ...JSON.parse(fs.readFileSync(file, "utf8")), realm: "example" });
    expect(summary).toMatchObject({ created: true, clients: { created: ["acme-web", "acme-spa"] }, users: { created: 1 } });
  });

  it("refuses duplicates inside one file", async () => {
    const err = await importRealm(db.prisma, { realm: "dups", clients: [{ clientId: "a" }, { clientId: "a" }], users: [{ username: "x", email: "e@x.org" }, { username: "y", email: "E@x.org" }] }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('clients[1]: clientId "a" is also used by clients[0]');
    expect((err as Error).message).toContain("users[1].email");
    expect(await counts("dups")).toBeUndefined();
  });
});

describe("x509-idp realm import / export (command line)", () => {
  it("exports a realm and imports it into a fresh database, where the same passwords and secrets work", async () => {
    const dir = tempDir();
    const file = path.join(dir, "acme.json");
    const exp = await runCli(tdb, ["realm", "export", "acme", "--output", file]);
    expect(exp.code, exp.stderr).toBe(0);
    const json = JSON.parse(fs.readFileSync(file, "utf8")) as { users: { username: string; credentials?: unknown }[] };
    expect(json.users.find((u) => u.username === "bob")?.credentials).toEqual([{ type: "password", hash: expect.stringMatching(/^\$argon2id\$/) }]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const target = await freshDatabase();
    const imp = await runCli(target, ["realm", "import", file]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ realm: "acme", created: true, users: { created: 3 } });
    const server = await startTestServer({ db: target });
    try {
      const res = await server.fetch("/realms/acme/protocol/openid-connect/token", {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: "bob", password: "bob-password" }),
      });
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
      await target.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints a clear error for a broken file and exits 2, without a stack trace", async () => {
    const dir = tempDir();
    const file = path.join(dir, "broken.json");
    fs.writeFileSync(file, JSON.stringify({ realm: "bad name!", users: [{ username: "a b" }] }));
    const res = await runCli(tdb, ["realm", "import", file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("realm:");
    expect(res.stderr).toContain("users[0].username");
    expect(res.stderr).not.toMatch(/\n\s+at /);
    fs.writeFileSync(file, "{ not json");
    const syntax = await runCli(tdb, ["realm", "import", file]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain("broken.json");
    const missing = await runCli(tdb, ["realm", "export", "no-such-realm"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('realm "no-such-realm" not found');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("adds a user and sets a password from standard input", async () => {
    const add = await runCli(tdb, ["user", "add", "acme", "dave", "--email", "dave@example.org", "--attribute", "employeeNumber=2002", "--password-stdin"], { stdin: "dave-password\n" });
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ username: "dave" });
    expect(JSON.parse(add.stdout).password).toBeUndefined();
    const passwd = await runCli(tdb, ["user", "passwd", "acme", "dave"]);
    expect(passwd.code, passwd.stderr).toBe(0);
    const generated = JSON.parse(passwd.stdout).password as string;
    expect(generated).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const dup = await runCli(tdb, ["user", "add", "acme", "dave", "--password", "x"]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain("User exists with same username");
  });
});
