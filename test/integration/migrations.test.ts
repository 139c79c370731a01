// The migration runner writes _prisma_migrations exactly as `prisma migrate deploy` does (Prisma's own engine finds
// nothing to apply afterwards), refuses edited and failed migrations, and the committed migrations match the models.
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { applyMigrations, migrationConnection, openDatabase } from "../../src/db/database.ts";
import { migrate, readMigrations, type MigrationConnection } from "../../src/db/migrate.ts";
import { migrationList, noFilter, openEngine, pendingChanges, postgresFactory, schemaFiles, sqliteFactory, type Provider } from "../../scripts/schema-engine.ts";
import { freshDatabase, tempDir, testDbKind, type TestDatabase } from "../helpers/db.ts";

const provider: Provider = testDbKind === "postgres" ? "postgresql" : "sqlite";
const committed = path.resolve(import.meta.dirname, "../../prisma", provider, "migrations");
const dbs: TestDatabase[] = [];
const conns: MigrationConnection[] = [];

async function fresh(): Promise<{ db: TestDatabase; conn: MigrationConnection }> {
  const db = await freshDatabase();
  dbs.push(db);
  const conn = await migrationConnection(db.url);
  conns.push(conn);
  return { db, conn };
}

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => {});
  for (const d of dbs) await d.drop();
});

interface Row {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: unknown;
  applied_steps_count: number | bigint;
  logs: string | null;
  rolled_back_at: unknown;
}

describe("data kept across migrations", () => {
  it("two keys a realm got of one algorithm (two nodes racing) stay, the older signing, the other for verification", async () => {
    const { db, conn } = await fresh();
    const files = readMigrations(committed, provider);
    const at = files.findIndex((f) => f.name.endsWith("_signing_key_per_algorithm"));
    expect(at).toBeGreaterThan(0);
    await migrate(conn, files.slice(0, at));
    const now = Date.now();
    const ts = (ms: number) => (provider === "sqlite" ? new Date(ms).toISOString().replace("Z", "+00:00") : new Date(ms).toISOString());
    await conn.query(`INSERT INTO "Realm" ("id", "name", "cookieKeys", "updatedAt") VALUES ('r1', 'raced', '', $1)`.replace("$1", provider === "sqlite" ? "?" : "$1"), [ts(now)]);
    for (const [kid, ms] of [["older", now - 1000], ["newer", now]] as const) {
      const sql = `INSERT INTO "SigningKey" ("kid", "realmId", "alg", "privateJwk", "priority", "createdAt") VALUES ($1, 'r1', 'ES256', '{}', 100, $2)`;
      await conn.query(provider === "sqlite" ? sql.replace("$1", "?").replace("$2", "?") : sql, [kid, ts(ms)]);
    }
    await migrate(conn, files);
    const rows = await conn.query<{ kid: string; priority: number | bigint }>(`SELECT "kid", "priority" FROM "SigningKey" ORDER BY "kid"`);
    expect(rows.map((r) => [r.kid, Number(r.priority)])).toEqual([["newer", -1], ["older", 100]]);
  });
});

describe("migration runner", () => {
  it("applies each migration once and records it as Prisma does", async () => {
    const { db, conn } = await fresh();
    const files = readMigrations(committed, provider);
    expect(await applyMigrations(db.url)).toEqual(files.map((f) => f.name));
    expect(await applyMigrations(db.url)).toEqual([]);
    const rows = await conn.query<Row>("SELECT * FROM _prisma_migrations");
    expect(rows).toHaveLength(files.length);
    for (const f of files) {
      const row = rows.find((r) => r.migration_name === f.name);
      expect(row?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row?.checksum).toBe(createHash("sha256").update(f.sql).digest("hex"));
      expect(row?.finished_at).not.toBeNull();
      expect(Number(row?.applied_steps_count)).toBe(1);
      expect(row?.rolled_back_at ?? null).toBeNull();
    }
    const opened = await openDatabase(db.url, { migrate: false });
    expect(await opened.status()).toEqual({ applied: files.map((f) => f.name), pending: [] });
    await opened.close();
  });

  it("is seen as fully applied by Prisma's own migrate engine", async () => {
    const { db } = await fresh();
    await applyMigrations(db.url);
    const engine = await openEngine(provider === "sqlite" ? sqliteFactory(db.url) : postgresFactory(db.url));
    try {
      const out = await engine.applyMigrations({ migrationsList: migrationList(provider), filters: noFilter });
      expect(out.appliedMigrationNames).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it("refuses a migration edited after it was applied", async () => {
    const { conn } = await fresh();
    const dir = tempDir();
    fs.cpSync(committed, dir, { recursive: true });
    await migrate(conn, readMigrations(dir, provider));
    const [first] = readMigrations(dir, provider);
    fs.appendFileSync(path.join(dir, first?.name ?? "", "migration.sql"), "\n-- edited\n");
    await expect(migrate(conn, readMigrations(dir, provider))).rejects.toThrow(/was modified after it was applied/);
    // A checkout that converted line endings is not an edit.
    const file = path.join(dir, first?.name ?? "", "migration.sql");
    fs.writeFileSync(file, (first?.sql ?? "").replace(/\n/g, "\r\n"));
    expect(await migrate(conn, readMigrations(dir, provider))).toEqual([]);
  });

  it("records a failing migration and refuses to run until it is resolved", async () => {
    const { conn } = await fresh();
    const dir = tempDir();
    fs.cpSync(committed, dir, { recursive: true });
    fs.mkdirSync(path.join(dir, "29990101000000_broken"));
    fs.writeFileSync(path.join(dir, "29990101000000_broken", "migration.sql"), 'CREATE TABLE "Realm" ("id" TEXT);\n');
    await expect(migrate(conn, readMigrations(dir, provider))).rejects.toThrow(/migration 29990101000000_broken failed/);
    const [row] = await conn.query<Row>("SELECT * FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'");
    expect(row?.finished_at ?? null).toBeNull();
    expect(row?.logs).toBeTruthy();
    await expect(migrate(conn, readMigrations(dir, provider))).rejects.toThrow(/failed migration\(s\) recorded/);
  });

  it("refuses a migrations folder locked to the other database", () => {
    const other = provider === "sqlite" ? "postgresql" : "sqlite";
    expect(() => readMigrations(path.resolve(committed, "../../", other, "migrations"), provider)).toThrow(/is for/);
  });
});

describe("migrations and models", () => {
  let pgUrl = "";
  beforeAll(() => {
    pgUrl = inject("pgAdminUrl");
  });

  it("the committed migrations produce exactly the Prisma models (no drift)", async () => {
    const sql = await pendingChanges(provider, pgUrl);
    expect(sql, `the models changed without a migration; run: npm run migration:new -- <what_changed>\n${sql}`).toBe("");
  });

  it("the drift check notices a model that has no migration", async () => {
    const models = schemaFiles(provider);
    models.files.push({ path: "prisma/models/extra.prisma", content: "model DriftProbe {\n  id Int @id\n}\n" });
    expect(await pendingChanges(provider, pgUrl, models)).toContain("DriftProbe");
  });
});
