// The SQLite WAL stays bounded under continuous writes (issue #12, item 1): the checkpointer's RESTART rounds make it
// start over, so it never passes 64 MiB however long the writes go on; PostgreSQL has no such file (skipped there).
import fs from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { hotSqlOf } from "../../src/db/hot-sql.ts";
import { RESTART_AFTER_BYTES } from "../../src/db/sqlite-checkpointer.ts";
import { freshDatabase, testDbKind, type TestDatabase } from "../helpers/db.ts";

let db: TestDatabase | undefined;
let opened: Database | undefined;
afterAll(async () => {
  await opened?.close();
  await db?.drop();
});

const UPSERT = `INSERT INTO "OidcPayload" ("realmId", "model", "id", "payload", "expiresAt") VALUES (?, ?, ?, ?, NULL)
  ON CONFLICT ("realmId", "model", "id") DO UPDATE SET "payload" = excluded."payload"`;

describe.skipIf(testDbKind !== "sqlite")("the SQLite WAL under continuous writes", () => {
  it("never passes 64 MiB while hundreds of MiB are written, and comes back below the restart size", async () => {
    db = await freshDatabase("sqlite");
    opened = await openDatabase(db.url);
    const prisma = opened.prisma;
    const realm = await prisma.realm.create({ data: { name: "wal", cookieKeys: "" } });
    const hot = hotSqlOf(prisma);
    if (!hot) throw new Error("no prepared statements");
    const wal = `${db.url.replace(/^file:/, "")}-wal`;
    const upsert = `INSERT INTO "OidcPayload" ("realmId", "model", "id", "payload", "expiresAt") VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT ("realmId", "model", "id") DO UPDATE SET "payload" = excluded."payload"`;
    const payload = "x".repeat(3000);
    let maxWal = 0;
    let upserts = 0;
    // As busy as this machine's peak and more: 5,000 commits a second (a certificate grant makes three), in bursts
    // of 25 with the event loop turning between them, for 6 s (some 40 MiB of WAL a second).
    const started = Date.now();
    while (Date.now() - started < 6000) {
      for (let j = 0; j < 25; j++) await hot.run(upsert, [realm.id, "AccessToken", `t${upserts++ % 20000}`, payload, hot.timestamp(new Date(Date.now() + 60_000))]);
      maxWal = Math.max(maxWal, fs.statSync(wal).size);
      const due = started + (upserts / 5000) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    const written = upserts * 2 * 4096;
    expect(written).toBeGreaterThanOrEqual(150 * 1024 * 1024);
    expect(maxWal).toBeLessThanOrEqual(64 * 1024 * 1024);
    // Once the writes stop, the next rounds catch up: the WAL in use is below the restart size.
    await new Promise((r) => setTimeout(r, 500));
    await hot.run(upsert, [realm.id, "AccessToken", "last", payload, null]);
    const frames = Number((await prisma.$queryRawUnsafe<{ log: number | bigint }[]>("PRAGMA wal_checkpoint(PASSIVE)"))[0]?.log ?? 0);
    expect(frames * 4096).toBeLessThan(RESTART_AFTER_BYTES);
  }, 60_000);

  // A RESTART holds the writer's lock while it waits for readers: with a reader in another process pinning an old
  // snapshot, the checkpointer must not try one (below 32 MiB of WAL), or every write waits for that reader.
  it("does not hold the server's writes while another process reads from an old snapshot", async () => {
    const other = await freshDatabase("sqlite");
    const server = await openDatabase(other.url);
    const file = other.url.replace(/^file:/, "");
    // Writes from a connection that never waits: any moment the checkpointer holds the writer's lock is an error.
    const writer = new BetterSqlite3(file, { timeout: 0 });
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      const realm = await server.prisma.realm.create({ data: { name: "pinned", cookieKeys: "" } });
      const upsert = writer.prepare(UPSERT);
      const payload = "x".repeat(3000);
      const burst = (from: number) => writer.transaction(() => {
        for (let i = from; i < from + 25; i++) upsert.run(realm.id, "AccessToken", `p${i}`, payload);
      })();
      burst(0);
      reader.exec("BEGIN");
      reader.prepare(`SELECT count(*) AS n FROM "OidcPayload"`).get();
      let busy = 0;
      let written = 25;
      // Some 20 MiB of WAL over 2 s (past the restart size, below the forced one) while the reader's snapshot stays.
      const started = Date.now();
      while (Date.now() - started < 2000) {
        try {
          burst(written);
          written += 25;
        } catch (e) {
          if ((e as { code?: string }).code !== "SQLITE_BUSY") throw e;
          busy++;
        }
        if (written * 2 * 4096 >= 20 * 1024 * 1024) break;
        await new Promise((r) => setTimeout(r, 8));
      }
      expect(busy).toBe(0);
      expect(written * 2 * 4096).toBeGreaterThan(RESTART_AFTER_BYTES * 2);
      // Once the reader is done, the WAL starts over again (with the next write that changes a page).
      reader.exec("COMMIT");
      await new Promise((r) => setTimeout(r, 600));
      burst(written);
      const frames = Number((writer.pragma("wal_checkpoint(PASSIVE)") as { log: number }[])[0]?.log ?? 0);
      expect(frames * 4096).toBeLessThan(RESTART_AFTER_BYTES);
    } finally {
      reader.close();
      writer.close();
      await server.close();
      await other.drop();
    }
  }, 60_000);
});
