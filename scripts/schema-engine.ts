// Dev-time only (authoring migrations, the drift test): Prisma's schema engine as WebAssembly, driven through the
// official driver adapters. The Prisma CLI would need the Rust schema-engine binary, which cannot be downloaded here.
// Findings behind the workarounds: ../shared/reference/prisma-offline/FINDINGS.md §2b.
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import pg from "pg";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type {
  ApplyMigrationsInput,
  ApplyMigrationsOutput,
  DiffParams,
  DiffResult,
  MigrationList,
  SchemasContainer,
} from "@prisma/schema-engine-wasm/schema_engine_bg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
} from "@prisma/driver-adapter-utils";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";

export type Provider = "sqlite" | "postgresql";
export const root = path.resolve(import.meta.dirname, "..");

let wasmReady = false;
// The package's own entry imports the .wasm as an ES module (an experimental warning on Node 24); instantiating it
// by hand is what @prisma/internals does and stays quiet.
function loadWasm(): void {
  if (wasmReady) return;
  const glueFile = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const module = new WebAssembly.Module(fs.readFileSync(path.join(path.dirname(glueFile), "schema_engine_bg.wasm")));
  const instance = new WebAssembly.Instance(module, { "./schema_engine_bg.js": glue as unknown as WebAssembly.ModuleImports });
  (glue as unknown as { __wbg_set_wasm(exports: WebAssembly.Exports): void }).__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
  wasmReady = true;
}

export interface Engine {
  diff(params: DiffParams): Promise<DiffResult>;
  /** What `prisma migrate deploy` does. */
  applyMigrations(input: ApplyMigrationsInput): Promise<ApplyMigrationsOutput>;
  close(): Promise<void>;
}

/** Opens the engine on an adapter factory; close() also disposes every connection the engine opened. */
export async function openEngine(factory: SqlMigrationAwareDriverAdapterFactory): Promise<Engine> {
  loadWasm();
  const opened: SqlDriverAdapter[] = [];
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => remember(await factory.connect()),
    connectToShadowDb: async () => remember(await factory.connectToShadowDb()),
  };
  function remember(a: SqlDriverAdapter): SqlDriverAdapter {
    opened.push(a);
    return a;
  }
  const bound = bindMigrationAwareSqlAdapterFactory(tracked);
  const engine = await glue.SchemaEngine.new({ datamodels: undefined }, () => {}, bound);
  // The engine reports adapter failures as "External error id#N"; the registry holds the real error.
  const explain = (e: unknown): Error => {
    const id = /External error id#(\d+)/.exec(String((e as Error)?.message ?? e))?.[1];
    const record = id ? bound.errorRegistry.consumeError(Number(id)) : undefined;
    return record ? new Error(`driver adapter error: ${JSON.stringify(record.error)}`) : (e as Error);
  };
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw explain(e);
    }
  };
  return {
    diff: (params) => call(() => engine.diff(params)),
    applyMigrations: (input) => call(() => engine.applyMigrations(input)),
    close: async () => {
      engine.free();
      for (const a of opened) await a.dispose().catch(() => {});
    },
  };
}

// better-sqlite3 refuses multi-statement SQL in prepare(); the engine sends whole migration scripts to the shadow
// database through executeRaw/queryRaw. Route parameterless multi-statement SQL to executeScript instead.
function multiStatementSafe(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const run = async <T>(q: SqlQuery, call: () => Promise<T>, empty: T): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      const text = JSON.stringify(e, Object.getOwnPropertyNames(e ?? {}));
      if (q.args.length === 0 && /more than one statement/.test(text)) {
        await adapter.executeScript(q.sql);
        return empty;
      }
      throw e;
    }
  };
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (q) => run(q, () => adapter.queryRaw(q), { columnNames: [], columnTypes: [], rows: [] }),
    executeRaw: (q) => run(q, () => adapter.executeRaw(q), 0),
    executeScript: (s) => adapter.executeScript(s),
    startTransaction: (level) => adapter.startTransaction(level),
    getConnectionInfo: adapter.getConnectionInfo?.bind(adapter),
    dispose: () => adapter.dispose(),
  };
}

export function sqliteFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const main = new PrismaBetterSqlite3({ url });
  return {
    provider: "sqlite",
    adapterName: main.adapterName,
    connect: async () => multiStatementSafe(await main.connect()),
    connectToShadowDb: async () => multiStatementSafe(await new PrismaBetterSqlite3({ url: ":memory:" }).connect()),
  };
}

// pg_catalog's internal type "char" (OID 18), read by the schema describer, is not mapped by adapter-pg; pg already
// returns its values as strings, so report the column as text (OID 25).
class CharAsTextClient extends pg.Client {
  // @ts-expect-error pg's query() has many overloads; this forwards all of them and only patches the field types.
  override query(...args: unknown[]): unknown {
    const fix = (res: pg.QueryResult | undefined) => {
      for (const f of res?.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
      return res;
    };
    const last = args.length - 1;
    const cb = args[last];
    if (typeof cb === "function") args[last] = (err: Error | null, res: pg.QueryResult) => cb(err, err ? res : fix(res));
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    return out instanceof Promise ? out.then(fix) : out;
  }
}

function pgConfig(url: string, database?: string): pg.PoolConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || "postgres"),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: database ?? (decodeURIComponent(u.pathname.slice(1)) || "postgres"),
    Client: CharAsTextClient as unknown as typeof pg.Client,
  };
}

/** `url` names the database to diff against; shadow databases are created (and dropped) next to it. */
export function postgresFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: () => new PrismaPg(new pg.Pool(pgConfig(url)), { disposeExternalPool: true }).connect(),
    // adapter-pg's own shadow database reuses the connection string (so the "shadow" is the main database) and drops
    // it before its pool is closed. Create it by name and drop it after the pool has ended.
    async connectToShadowDb() {
      const admin = new pg.Client(pgConfig(url));
      await admin.connect();
      const name = `x509idp_shadow_${randomUUID().replace(/-/g, "")}`;
      await admin.query(`CREATE DATABASE "${name}"`);
      const inner = await new PrismaPg(new pg.Pool(pgConfig(url, name)), { disposeExternalPool: true }).connect();
      return {
        provider: inner.provider,
        adapterName: inner.adapterName,
        queryRaw: (q) => inner.queryRaw(q),
        executeRaw: (q) => inner.executeRaw(q),
        executeScript: (s) => inner.executeScript(s),
        startTransaction: (level) => inner.startTransaction(level),
        getConnectionInfo: inner.getConnectionInfo?.bind(inner),
        dispose: async () => {
          await inner.dispose();
          await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
          await admin.end();
        },
      };
    },
  };
}

/** Every .prisma file of a provider's schema folder (its stub plus the shared models). */
export function schemaFiles(provider: Provider): SchemasContainer {
  const files: { path: string; content: string }[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".prisma")) files.push({ path: path.relative(root, p), content: fs.readFileSync(p, "utf8") });
    }
  };
  walk(path.join(root, "prisma", provider));
  return { files };
}

export const migrationsDir = (provider: Provider) => path.join(root, "prisma", provider, "migrations");

export function migrationList(provider: Provider): MigrationList {
  const baseDir = migrationsDir(provider);
  const lock = path.join(baseDir, "migration_lock.toml");
  const dirs = fs.existsSync(baseDir)
    ? fs.readdirSync(baseDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    : [];
  return {
    baseDir,
    lockfile: { path: "migration_lock.toml", content: fs.existsSync(lock) ? fs.readFileSync(lock, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: dirs.map((d) => ({
      path: d,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok" as const, value: fs.readFileSync(path.join(baseDir, d, "migration.sql"), "utf8") },
      },
    })),
  };
}

export const noFilter = { externalTables: [], externalEnums: [] };

/** The SQL that takes a database from the committed migrations to the models ("" when in sync). */
export async function pendingChanges(provider: Provider, pgUrl: string, models: SchemasContainer = schemaFiles(provider)): Promise<string> {
  const engine = await openEngine(provider === "sqlite" ? sqliteFactory("file::memory:") : postgresFactory(pgUrl));
  try {
    const res = await engine.diff({
      from: { tag: "migrations", ...migrationList(provider) },
      to: { tag: "schemaDatamodel", ...models },
      script: true,
      exitCode: true,
      filters: noFilter,
    });
    return res.exitCode === 2 ? (res.stdout ?? "") : "";
  } finally {
    await engine.close();
  }
}
