// Applies prisma/<provider>/migrations/<name>/migration.sql in lexical order and records each one in
// _prisma_migrations exactly as `prisma migrate deploy` does (same table, sha-256 checksum, uuid ids, advisory lock),
// so that Prisma's own tooling elsewhere sees them as applied. Prisma's Rust engine cannot be downloaded here.
// Reference: prisma-engines schema-connector/src/checksum.rs, sql-migration-connector/src/flavour/{sqlite,postgres}.rs.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";

export type DbProvider = "sqlite" | "postgresql";

/** The little a migration run needs from a database connection. */
export interface MigrationConnection {
  readonly provider: DbProvider;
  /** A multi-statement script without parameters. */
  script(sql: string): Promise<void>;
  /** One statement with positional parameters ($1… on PostgreSQL, ? on SQLite). */
  query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

interface MigrationRow {
  id: string;
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

const MIGRATIONS_TABLE: Record<DbProvider, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`,
  postgresql: `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`,
};

/** Prisma Migrate's advisory lock id: two instances starting together migrate one after the other. */
const PRISMA_LOCK_ID = 72707369;

/** The database's migration history needs an operator (edited, failed or foreign migrations). */
export class MigrationError extends Error {}

export const checksum = (script: string) => crypto.createHash("sha256").update(script).digest("hex");

// Prisma accepts a file whose line endings git converted after it was applied.
const sameScript = (script: string, sum: string) =>
  [script, script.replace(/\r\n/g, "\n"), script.replace(/\n/g, "\r\n")].some((s) => checksum(s) === sum);

export interface MigrationFile {
  name: string;
  sql: string;
}

export function readMigrations(dir: string, provider: DbProvider): MigrationFile[] {
  const lock = path.join(dir, "migration_lock.toml");
  const locked = fs.existsSync(lock) ? /provider\s*=\s*"([^"]+)"/.exec(fs.readFileSync(lock, "utf8"))?.[1] : undefined;
  if (locked && locked !== provider) throw new MigrationError(`${lock} is for ${locked}, but the database is ${provider}`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => ({ name, sql: fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8") }));
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

/** What is applied and what is not, without changing anything (the readiness check uses it). */
export async function migrationStatus(db: MigrationConnection, files: MigrationFile[]): Promise<MigrationStatus> {
  const table = db.provider === "sqlite" ? "SELECT name FROM sqlite_master WHERE type='table' AND name='_prisma_migrations'"
    : "SELECT to_regclass('_prisma_migrations') AS name";
  const [exists] = await db.query<{ name: string | null }>(table);
  if (!exists?.name) return { applied: [], pending: files.map((f) => f.name) };
  const rows = await db.query<MigrationRow>(
    "SELECT id, migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations",
  );
  const done = new Set(rows.filter((r) => r.rolled_back_at == null && r.finished_at != null).map((r) => r.migration_name));
  return {
    applied: files.filter((f) => done.has(f.name)).map((f) => f.name),
    pending: files.filter((f) => !done.has(f.name)).map((f) => f.name),
  };
}

/** Applies what is missing; returns the names applied. Refuses edited or failed migrations, as Prisma does. */
export async function migrate(db: MigrationConnection, files: MigrationFile[]): Promise<string[]> {
  const pg = db.provider === "postgresql";
  const p = (i: number) => (pg ? `$${i}` : "?");
  // Prisma writes SQLite timestamps as RFC 3339 text with an explicit +00:00 offset.
  const now = () => (pg ? new Date() : new Date().toISOString().replace("Z", "+00:00"));
  if (pg) await db.query("SELECT pg_advisory_lock($1)", [PRISMA_LOCK_ID]);
  try {
    await db.script(MIGRATIONS_TABLE[db.provider]);
    const rows = await db.query<MigrationRow>(
      "SELECT id, migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at",
    );
    const live = rows.filter((r) => r.rolled_back_at == null);
    const failed = live.filter((r) => r.finished_at == null).map((r) => r.migration_name);
    if (failed.length) {
      throw new MigrationError(`failed migration(s) recorded in _prisma_migrations: ${failed.join(", ")}; fix the database, then mark them rolled back`);
    }
    const applied = new Map(live.map((r) => [r.migration_name, r.checksum]));
    const done: string[] = [];
    for (const { name, sql } of files) {
      const known = applied.get(name);
      if (known !== undefined) {
        if (!sameScript(sql, known)) throw new MigrationError(`migration ${name} was modified after it was applied (checksum mismatch)`);
        continue;
      }
      const id = crypto.randomUUID();
      await db.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, 0)`,
        [id, checksum(sql), name, now()],
      );
      try {
        await db.script(sql);
      } catch (e) {
        await db.query(`UPDATE _prisma_migrations SET logs = ${p(1)} WHERE id = ${p(2)}`, [String((e as Error).stack ?? e), id]);
        throw new MigrationError(`migration ${name} failed: ${(e as Error).message}`, { cause: e });
      }
      await db.query(
        `UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, finished_at = ${p(1)} WHERE id = ${p(2)}`,
        [now(), id],
      );
      done.push(name);
    }
    return done;
  } finally {
    if (pg) await db.query("SELECT pg_advisory_unlock($1)", [PRISMA_LOCK_ID]);
  }
}
