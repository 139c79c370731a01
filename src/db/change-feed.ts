// Realm and client changes reach every node at once. A change made through one node's admin API (or a CLI command)
// is published on PostgreSQL's LISTEN/NOTIFY channel; every node listens and drops its cached provider for that realm
// (oidc/registry.ts), which it rebuilds from the database on the next request. The registry's five-second re-check
// stays as the fallback while the listening connection is down, and a reconnect drops every cached realm, since
// notifications sent meanwhile are lost. SQLite has one serving server (db/sqlite-lock.ts): its worker processes, if
// it has several, tell each other through their primary (cli/workers.ts clusterChangeFeed).
import type pg from "pg";
import type { Logger } from "../log.ts";

export const CHANNEL = "x509idp_changes";
const RECONNECT_MS = [250, 500, 1000, 2000, 5000];

/** `realm` undefined: anything may have changed. */
export type ChangeListener = (realm: string | undefined) => void;

export interface ChangeFeed {
  /** Tells every other node that `realm` changed (the caller invalidates its own cache). */
  publish(realm: string): Promise<void>;
  subscribe(listener: ChangeListener): void;
  close(): Promise<void>;
}

export function localChangeFeed(): ChangeFeed {
  return { publish: async () => undefined, subscribe: () => undefined, close: async () => undefined };
}

/** `driver`: the pg module (database.ts loads it only for PostgreSQL). */
export function postgresChangeFeed(driver: typeof pg, url: string, pool: pg.Pool, log?: Logger): ChangeFeed {
  const listeners: ChangeListener[] = [];
  const pending = new Set<Promise<unknown>>();
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    const c = new driver.Client({ connectionString: url });
    c.on("error", () => undefined);
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
    } catch (e) {
      await c.end().catch(() => undefined);
      retry(e);
      return;
    }
    if (closed) {
      // closed while connecting: nobody else would end this connection, and it would keep the process alive
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    if (attempt > 0) {
      log?.info("listening for realm changes again");
      for (const l of listeners) l(undefined); // what was notified meanwhile is lost
    }
    attempt = 0;
    c.on("notification", (m) => {
      for (const l of listeners) l(m.payload || undefined);
    });
    c.once("end", () => {
      if (client === c) client = undefined;
      retry(new Error("the listening connection ended"));
    });
  };
  const retry = (e: unknown) => {
    if (closed) return;
    if (attempt === 0) log?.warn({ err: e }, "not listening for realm changes from other nodes; retrying (changes still arrive within 5 s)");
    timer = setTimeout(() => void connect(), RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)]);
  };

  return {
    async publish(realm) {
      const p = pool.query("SELECT pg_notify($1, $2)", [CHANNEL, realm]).catch((e: unknown) => log?.warn({ err: e, realm }, "could not tell the other nodes of a change"));
      pending.add(p);
      await p;
      pending.delete(p);
    },
    subscribe(listener) {
      listeners.push(listener);
      if (listeners.length === 1) void connect();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.all(pending);
      await client?.end().catch(() => undefined);
    },
  };
}
