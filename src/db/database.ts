// One codebase, two databases: the generated client and driver adapter are chosen from the URL.
// SQLite (better-sqlite3) by default; PostgreSQL when the URL starts with postgres:// or postgresql://. PostgreSQL's
// driver, adapter and generated client are loaded only when the URL asks for it (a SQLite server does not carry them).
import fs from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { cachingSqliteAdapter } from "./sqlite-adapter.ts";
import { postgresHotSql, registerHotSql, sqliteHotSql } from "./hot-sql.ts";
import { startCheckpointer, type Checkpointer } from "./sqlite-checkpointer.ts";
import { localChangeFeed, postgresChangeFeed, type ChangeFeed } from "./change-feed.ts";
import type { Logger } from "../log.ts";
import type { DatabaseStats } from "../metrics.ts";
import { PrismaClient as SqliteClient, Prisma as SqlitePrisma } from "#generated/sqlite/client.ts";
import { migrate, migrationStatus, readMigrations, type DbProvider, type MigrationConnection, type MigrationStatus } from "./migrate.ts";

/** Application code is written against the API both generated clients share. */
export type Prisma = SqliteClient;
/** Writes SQL NULL into a Json? column (both clients share Prisma's runtime, so one value serves both). */
export const DbNull = SqlitePrisma.DbNull;
/** A client or an interactive transaction: what the stores take, so that use cases can compose them atomically. */
export type Tx = SqlitePrisma.TransactionClient;

export interface Database {
  readonly provider: DbProvider;
  readonly prisma: Prisma;
  /** Realm changes between the nodes of one database (change-feed.ts). */
  readonly changes: ChangeFeed;
  /** Pending migrations and reachability, for /health/ready. */
  status(): Promise<MigrationStatus>;
  /** Connections and waiting requests now (metrics). */
  stats(): DatabaseStats;
  close(): Promise<void>;
}

export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//.test(url);

/** The database cannot be opened; the message names DATABASE_URL (password removed) and the driver's reason. */
export class DatabaseError extends Error {}

export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

const migrationsRoot = path.resolve(import.meta.dirname, "../../prisma");
const POOL_MAX = 10;

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function sqliteFile(url: string): string {
  return url.replace(/^file:/, "");
}

/** The pg module, loaded on first use. */
const loadPg = async (): Promise<typeof pg> => (await import("pg")).default;

export async function migrationConnection(url: string): Promise<MigrationConnection> {
  if (isPostgresUrl(url)) {
    const driver = await loadPg();
    const client = new driver.Client({ connectionString: url });
    // A connection that drops between statements is an "error" event; the statement in flight fails on its own.
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch (e) {
      const hint = (e as { code?: string }).code === "3D000" ? " (create it first, e.g. createdb)" : "";
      throw new DatabaseError(`cannot connect to ${redactUrl(url)} (DATABASE_URL): ${(e as Error).message}${hint}`, { cause: e });
    }
    return {
      provider: "postgresql",
      // The simple-query protocol runs a multi-statement script in one implicit transaction.
      script: async (sql) => void (await client.query(sql)),
      query: async <Row extends object>(sql: string, params: readonly unknown[] = []) =>
        (await client.query(sql, params as unknown[])).rows as Row[],
      close: () => client.end(),
    };
  }
  const file = sqliteFile(url);
  let db: BetterSqlite3.Database;
  try {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new BetterSqlite3(file);
  } catch (e) {
    throw new DatabaseError(`cannot open ${file} (DATABASE_URL / IDP_DATA_DIR): ${(e as Error).message}`, { cause: e });
  }
  // WAL lets readers run beside the single writer; the setting is stored in the database file.
  db.pragma("journal_mode = WAL");
  return {
    provider: "sqlite",
    script: async (sql) => void db.exec(sql),
    query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => {
      const st = db.prepare(sql);
      if (st.reader) return st.all(...params) as Row[];
      st.run(...params);
      return [];
    },
    close: async () => void db.close(),
  };
}

const migrationsFor = (provider: DbProvider) => readMigrations(path.join(migrationsRoot, provider, "migrations"), provider);

/** Applies pending migrations; returns their names. Used at start-up and by `x509-idp migrate`. */
export async function applyMigrations(url: string): Promise<string[]> {
  const conn = await migrationConnection(url);
  try {
    return await migrate(conn, migrationsFor(conn.provider));
  } finally {
    await conn.close();
  }
}

export interface OpenOptions {
  migrate: boolean;
  log?: Logger;
  /** SQLite: checkpoint the WAL from a thread of this process (default); a pool's primary does it for its workers. */
  checkpoint?: boolean;
  /** SQLite: realm changes between the processes of one server (a pool's workers; default: this process only). */
  feed?: () => ChangeFeed;
}

export async function openDatabase(url: string, options: OpenOptions = { migrate: true }): Promise<Database> {
  if (options.migrate) await applyMigrations(url);
  const provider: DbProvider = isPostgresUrl(url) ? "postgresql" : "sqlite";
  let prisma: Prisma;
  let checkpointer: Checkpointer | undefined;
  let changes = localChangeFeed();
  let stats: () => DatabaseStats;
  if (provider === "postgresql") {
    const [driver, { PrismaPg }, { PrismaClient: PostgresClient }] = await Promise.all([loadPg(), import("@prisma/adapter-pg"), import("#generated/postgresql/client.ts")]);
    const pool = new driver.Pool({ connectionString: url, max: POOL_MAX });
    // An idle connection that the server or the network drops is an "error" event of the pool: without a listener
    // Node would end the process (Prisma's adapter listens only while it is connected). The pool drops the client;
    // the next query opens a new one.
    pool.on("error", (err) => options.log?.warn({ err }, "an idle database connection was closed"));
    stats = () => ({ open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: POOL_MAX });
    prisma = new PostgresClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) }) as unknown as Prisma;
    registerHotSql(prisma, postgresHotSql(driver, pool));
    changes = postgresChangeFeed(driver, url, pool, options.log);
  } else {
    const sqlite = cachingSqliteAdapter({ url: `file:${sqliteFile(url)}`, timeout: 10_000 });
    prisma = new SqliteClient({ adapter: sqlite.factory });
    // Safe with WAL: a power cut can lose the last commits, never corrupt the database.
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    registerHotSql(prisma, sqliteHotSql(sqlite.connection, sqlite.gate));
    // One connection serves the process; statements wait only while an interactive transaction is open.
    const wal = `${sqliteFile(url)}-wal`;
    stats = () => ({ open: 1, idle: sqlite.gate.open === 0 ? 1 : 0, waiting: sqlite.gate.waiting, max: 1, walBytes: fileSize(wal) });
    // Copying the WAL back into the database (a checkpoint) costs a fifth of a busy server's time: a worker thread
    // does it, on its own connection, and keeps the WAL small (sqlite-checkpointer.ts). This connection checkpoints
    // itself only if the WAL ever passes 32 MiB (8192 pages of 4 KiB: the thread fell behind, on a machine short of
    // CPU), so the WAL stays under 64 MiB even then, and a WAL file that grew larger is trimmed to 64 MiB when it
    // starts over.
    const onDisk = sqliteFile(url) !== ":memory:";
    checkpointer = onDisk && options.checkpoint !== false ? startCheckpointer(sqliteFile(url)) : undefined;
    if (options.feed) changes = options.feed();
    if (onDisk) {
      await prisma.$queryRawUnsafe("PRAGMA wal_autocheckpoint = 8192");
      await prisma.$queryRawUnsafe("PRAGMA journal_size_limit = 67108864");
    }
  }
  return {
    provider,
    prisma,
    changes,
    stats,
    async status() {
      const conn = await migrationConnection(url);
      try {
        return await migrationStatus(conn, migrationsFor(provider));
      } finally {
        await conn.close();
      }
    },
    async close() {
      await changes.close();
      await checkpointer?.stop();
      await prisma.$disconnect();
    },
  };
}
