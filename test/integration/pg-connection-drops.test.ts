// A PostgreSQL connection that drops while nobody is using it (idle in the pool, before Prisma's adapter listens on
// the pool) or between two statements of a transaction is an "error" event of the pool or of the client: without a
// listener Node ends the process. Seen once as an uncaught "Connection terminated unexpectedly" in a clean-clone CI
// run of the outage test; here it is made to happen on purpose, and the process goes on and works again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { hotSqlOf } from "../../src/db/hot-sql.ts";
import { freshDatabase, testDbKind, type TestDatabase } from "../helpers/db.ts";
import { forwardTo, type Forwarder } from "../helpers/tcp-forwarder.ts";

let db: TestDatabase;
let fwd: Forwarder;
let database: Database;
const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => void uncaught.push(e);

beforeAll(async () => {
  if (testDbKind !== "postgres") return;
  db = await freshDatabase();
  const forwarded = await forwardTo(db.url);
  fwd = forwarded.fwd;
  database = await openDatabase(forwarded.url, { migrate: true });
  process.on("uncaughtException", onUncaught);
});
afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  await database?.close();
  await fwd?.close();
  await db?.drop();
});

describe.skipIf(testDbKind !== "postgres")("a PostgreSQL connection that drops", () => {
  it("idle in the pool, before Prisma ever connected: no uncaught error, the next query opens a new connection", async () => {
    const hot = hotSqlOf(database.prisma);
    expect(hot).toBeDefined();
    // Only the hot path's pool has connections (Prisma's adapter has not connected, so it does not listen yet).
    expect(await hot?.all<{ one: number }>("SELECT 1 AS one", [])).toEqual([{ one: 1 }]);
    await fwd.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(uncaught).toEqual([]);
    await fwd.start();
    expect(await hot?.all<{ one: number }>("SELECT 2 AS one", [])).toEqual([{ one: 2 }]);
  });

  it("between the statements of a batch: the batch fails, nothing uncaught, and the next batch works", async () => {
    const hot = hotSqlOf(database.prisma);
    const slow = hot?.batch([{ sql: "SELECT pg_sleep(0.3)", params: [] }, { sql: "SELECT 1", params: [] }]);
    await new Promise((r) => setTimeout(r, 100));
    await fwd.stop();
    await expect(slow).rejects.toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(uncaught).toEqual([]);
    await fwd.start();
    await expect(hot?.batch([{ sql: "SELECT 1", params: [] }])).resolves.toBeUndefined();
  });
});
