// Parameterised SQL on Prisma's own connections, for the few queries every login runs (user lookup, lockout check,
// token storage). Prisma's query engine costs 300–500 µs of CPU per query; a prepared statement on the same driver
// costs a tenth of that. Everything else stays on Prisma. The statements are static strings with $1… placeholders
// (never built from input), valid on both databases: identifiers double-quoted, $n rewritten to ?n for SQLite.
//
// The hot path is found from a Prisma client (hotSqlOf): only the root client has one, so code running inside an
// interactive transaction stays on Prisma and inside the transaction.
import { createHash } from "node:crypto";
import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { prepareDirect, type TransactionGate } from "./sqlite-adapter.ts";

export interface HotSql {
  readonly provider: "sqlite" | "postgresql";
  all<T extends object>(sql: string, params: readonly unknown[]): Promise<T[]>;
  run(sql: string, params: readonly unknown[]): Promise<void>;
  /** Runs the statements in order, in one transaction: all of them are committed, or none. */
  batch(statements: readonly Statement[]): Promise<void>;
  /** A timestamp as the database stores it (SQLite: Prisma's ISO text; PostgreSQL: a Date). */
  timestamp(d: Date): unknown;
}

/** One statement with its parameters ($1, $2… placeholders). */
export interface Statement {
  sql: string;
  params: readonly unknown[];
}

const hot = new WeakMap<object, HotSql>();

export function registerHotSql(prisma: object, h: HotSql): void {
  hot.set(prisma, h);
}

export function hotSqlOf(db: object): HotSql | undefined {
  return hot.get(db);
}

/** A timestamp column's value as a Date (SQLite returns Prisma's ISO text). */
export function readTimestamp(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v : new Date(String(v));
}

/** A boolean column's value (SQLite returns 0 or 1). */
export const readBoolean = (v: unknown): boolean => v === true || v === 1 || v === 1n;

/** `gate`: statements wait while an interactive transaction is open on the connection (sqlite-adapter.ts). */
export function sqliteHotSql(db: () => BetterSqlite3.Database, gate: TransactionGate): HotSql {
  // $n placeholders become anonymous ones, with the parameters laid out in the order they occur.
  const statements = new Map<string, { st: BetterSqlite3.Statement<unknown[]>; order: number[] }>();
  const prepared = (sql: string) => {
    let p = statements.get(sql);
    if (!p) {
      const st = prepareDirect(db(), sql.replace(/\$\d+/g, "?"));
      if (st.reader) st.safeIntegers(false);
      p = { st, order: [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]) - 1) };
      statements.set(sql, p);
    }
    return p;
  };
  const bind = (order: number[], params: readonly unknown[]) => order.map((i) => {
    const v = params[i];
    return typeof v === "boolean" ? (v ? 1 : 0) : v;
  });
  return {
    provider: "sqlite",
    all: async <T extends object>(sql: string, params: readonly unknown[]) => {
      await gate.idle();
      const { st, order } = prepared(sql);
      return st.all(...bind(order, params)) as T[];
    },
    run: async (sql, params) => {
      await gate.idle();
      const { st, order } = prepared(sql);
      st.run(...bind(order, params));
    },
    batch: async (list) => {
      await gate.idle();
      const steps = list.map(({ sql, params }) => {
        const { st, order } = prepared(sql);
        return () => st.run(...bind(order, params));
      });
      // IMMEDIATE: another process's write in between waits (busy timeout) instead of failing (sqlite-adapter.ts).
      db().transaction(() => {
        for (const step of steps) step();
      }).immediate();
    },
    // Prisma's SQLite adapter writes DateTime as ISO text with a "+00:00" offset; text comparisons depend on it.
    timestamp: (d) => d.toISOString().replace("Z", "+00:00"),
  };
}

/**
 * Prisma's PostgreSQL columns are TIMESTAMP(3) without time zone, holding UTC. node-postgres would read them as local
 * time and write Dates in local time: here they are read as UTC and written as UTC text (the offset of an ISO string
 * is ignored by a column without time zone), whatever the process's time zone.
 */
const TIMESTAMP = 1114;
const utcTypesOf = (pgTypes: typeof pg.types) => ({
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMP ? (v: string) => new Date(`${v.replace(" ", "T")}Z`) : (pgTypes.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
});

/** `driver`: the pg module (database.ts loads it only for PostgreSQL). */
export function postgresHotSql(driver: typeof pg, pool: pg.Pool): HotSql {
  const utcTypes = utcTypesOf(driver.types);
  const names = new Map<string, string>();
  const name = (sql: string) => {
    let n = names.get(sql);
    if (!n) {
      n = `hot_${createHash("sha256").update(sql).digest("hex").slice(0, 24)}`;
      names.set(sql, n);
    }
    return n;
  };
  return {
    provider: "postgresql",
    all: async <T extends object>(sql: string, params: readonly unknown[]) =>
      (await pool.query({ name: name(sql), text: sql, values: [...params], types: utcTypes } as pg.QueryConfig)).rows as T[],
    run: async (sql, params) => void (await pool.query({ name: name(sql), text: sql, values: [...params] })),
    batch: async (list) => {
      const client = await pool.connect();
      // A checked-out client has no pool listener: a connection dropped between two statements is an "error" event
      // that would otherwise end the process. The next statement fails, and the broken client is not given back.
      let broken: Error | undefined;
      const onError = (err: Error) => void (broken = err);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        for (const { sql, params } of list) await client.query({ name: name(sql), text: sql, values: [...params] });
        await client.query("COMMIT");
      } catch (e) {
        if (!broken) await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      } finally {
        client.removeListener("error", onError);
        client.release(broken);
      }
    },
    timestamp: (d) => d.toISOString(),
  };
}
