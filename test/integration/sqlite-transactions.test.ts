// One SQLite connection serves the whole process: a statement issued while an interactive transaction is open would
// run inside it, and vanish if it rolls back. Here a transaction that rolls back after waiting does not take with it
// the tokens and events written meanwhile (issue #12, item 3: nothing acknowledged is lost). PostgreSQL gives each
// transaction its own connection; the test runs there too.
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { EventStore } from "../../src/events/event-store.ts";
import { createLogger } from "../../src/log.ts";
import { prismaAdapter } from "../../src/oidc/adapter.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";

let db: TestDatabase | undefined;
let opened: Database | undefined;
afterAll(async () => {
  await opened?.close();
  await db?.drop();
});

describe("writes beside an interactive transaction", () => {
  it("survive its rollback", async () => {
    db = await freshDatabase();
    opened = await openDatabase(db.url);
    const prisma = opened.prisma;
    const realm = await prisma.realm.create({ data: { name: "tx", cookieKeys: "" } });
    const tokens = prismaAdapter(prisma, realm.id, async () => undefined)("AccessToken");
    const events = new EventStore(prisma, createLogger("silent"));
    let inside!: () => void;
    const opened_ = new Promise<void>((r) => (inside = r));
    const failing = prisma.$transaction(async (tx) => {
      await tx.user.create({ data: { realmId: realm.id, username: "half-made" } });
      inside();
      await new Promise((r) => setTimeout(r, 300));
      throw new Error("the use case fails: nothing of it stays");
    }).catch((e: Error) => e.message);
    await opened_;
    // Meanwhile a login elsewhere stores its token and its event.
    await tokens.upsert("acknowledged", { jti: "acknowledged", grantId: "g" }, 60);
    events.record({ realmId: realm.id, type: "LOGIN", clientId: "app" });
    const settled = events.settle(5000);
    expect(await failing).toBe("the use case fails: nothing of it stays");
    await settled;
    expect(await prisma.user.count({ where: { realmId: realm.id } })).toBe(0);
    expect(await tokens.find("acknowledged")).toMatchObject({ jti: "acknowledged" });
    expect(await prisma.event.count({ where: { realmId: realm.id } })).toBe(1);
  });
});
