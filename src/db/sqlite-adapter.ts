// Prisma's better-sqlite3 adapter, with prepared statements kept. The adapter prepares every query afresh
// (`client.prepare(sql).bind(args)`), which costs as much as running it: here `prepare` returns a light statement
// over a cached one, binding the arguments per call instead of once and for all (better-sqlite3 statements cannot
// be re-bound). Prisma's queries come from a small fixed set, so the cache stays small; it is bounded anyway.
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type BetterSqlite3 from "better-sqlite3";

type Statement = BetterSqlite3.Statement<unknown[]>;
const MAX_STATEMENTS = 500;

/** What the adapter uses of a statement. */
interface AdapterStatement {
  readonly reader: boolean;
  bind(args: unknown[]): AdapterStatement;
  columns(): BetterSqlite3.ColumnDefinition[];
  run(): BetterSqlite3.RunResult;
  raw(on?: boolean): { all(): unknown[] };
  all(): unknown[];
}

function wrap(st: Statement, args: unknown[] = []): AdapterStatement {
  return {
    get reader() {
      return st.reader;
    },
    bind: (a) => wrap(st, a),
    columns: () => st.columns(),
    run: () => st.run(...args),
    raw: (on = true) => ({ all: () => st.raw(on).all(...args) }),
    all: () => st.raw(false).all(...args),
  };
}

function cacheStatements(db: BetterSqlite3.Database): void {
  const prepare = db.prepare.bind(db) as (sql: string) => Statement;
  const cache = new Map<string, Statement>();
  (db as unknown as { prepare(sql: string): AdapterStatement }).prepare = (given: string) => {
    // Prisma's transactions begin DEFERRED: one that read first and then writes fails at once with SQLITE_BUSY when
    // another process (a worker of the same server, the CLI) wrote in between. IMMEDIATE takes the write lock up
    // front, waiting for the other's commit (the busy timeout) instead.
    const sql = given === "BEGIN" ? "BEGIN IMMEDIATE" : given;
    let st = cache.get(sql);
    if (!st) {
      st = prepare(sql);
      if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value as string);
      cache.set(sql, st);
    }
    return wrap(st);
  };
}

type Factory = InstanceType<typeof PrismaBetterSqlite3>;

/**
 * One connection serves the whole process, so a statement issued while an interactive transaction is open (between
 * two of its awaits) would run inside it, and be undone if it rolls back: a token or an event already acknowledged
 * would vanish. Statements from outside a transaction (Prisma's, and db/hot-sql.ts's) wait here until none is open,
 * as they would wait for a connection of a pool.
 */
export class TransactionGate {
  #open = 0;
  #waiters: (() => void)[] = [];

  enter(): void {
    this.#open++;
  }

  leave(): void {
    this.#open--;
    if (this.#open === 0) for (const w of this.#waiters.splice(0)) w();
  }

  /** Interactive transactions open now, and statements waiting for them to end (metrics). */
  get open(): number {
    return this.#open;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves at once when no transaction is open (the usual case), else when the last one ends. */
  idle(): Promise<void> | undefined {
    return this.#open === 0 ? undefined : new Promise((resolve) => this.#waiters.push(resolve));
  }
}

interface RootAdapter {
  queryRaw(q: unknown): Promise<unknown>;
  executeRaw(q: unknown): Promise<unknown>;
  executeScript(s: string): Promise<void>;
  startTransaction(iso?: string): Promise<{ commit(): Promise<void>; rollback(): Promise<void> }>;
}

function gateAdapter(adapter: RootAdapter, gate: TransactionGate): void {
  for (const m of ["queryRaw", "executeRaw", "executeScript"] as const) {
    const original = adapter[m].bind(adapter) as (a: never) => Promise<unknown>;
    (adapter as unknown as Record<string, (a: never) => Promise<unknown>>)[m] = async (a: never) => {
      await gate.idle();
      return original(a);
    };
  }
  const start = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (iso) => {
    const tx = await start(iso);
    gate.enter();
    for (const m of ["commit", "rollback"] as const) {
      const end = tx[m].bind(tx);
      tx[m] = async () => {
        try {
          await end();
        } finally {
          gate.leave();
        }
      };
    }
    return tx;
  };
}

/** The factory, the connection it opened (for statements of x509-idp's own on the same connection) and its gate. */
export function cachingSqliteAdapter(config: ConstructorParameters<typeof PrismaBetterSqlite3>[0]): { factory: Factory; connection(): BetterSqlite3.Database; gate: TransactionGate } {
  const inner = new PrismaBetterSqlite3(config);
  const connect = inner.connect.bind(inner);
  const gate = new TransactionGate();
  let client: BetterSqlite3.Database | undefined;
  inner.connect = async () => {
    const adapter = await connect();
    client = (adapter as unknown as { client: BetterSqlite3.Database }).client;
    const prepare = client.prepare.bind(client);
    cacheStatements(client);
    // x509-idp's own statements keep the driver's prepare (they are cached where they are used).
    connectionPrepare.set(client, prepare);
    gateAdapter(adapter as unknown as RootAdapter, gate);
    return adapter;
  };
  return {
    factory: inner,
    connection() {
      if (!client) throw new Error("the SQLite connection is not open yet");
      return client;
    },
    gate,
  };
}

const connectionPrepare = new WeakMap<BetterSqlite3.Database, (sql: string) => BetterSqlite3.Statement<unknown[]>>();

/** A plain prepared statement on a connection whose prepare() the Prisma adapter wraps. */
export function prepareDirect(db: BetterSqlite3.Database, sql: string): BetterSqlite3.Statement<unknown[]> {
  return (connectionPrepare.get(db) ?? ((s: string) => db.prepare(s) as BetterSqlite3.Statement<unknown[]>))(sql);
}
