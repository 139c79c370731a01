// One commit per direct grant: the grant, its refresh token and the LOGIN event are written in one transaction (the
// event store's batch), so there are never tokens without their event, nor an event for tokens that were not stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStore } from "../../src/events/event-store.ts";
import { createLogger } from "../../src/log.ts";
import { storageId } from "../../src/oidc/adapter.ts";
import { APP_SECRET, seedAcme } from "../helpers/fixtures.ts";
import { testDbKind } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await seedAcme(server);
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

const prisma = () => server.started.services.db.prisma;
const grant = (username: string, password: string) =>
  server.fetch("/realms/acme/protocol/openid-connect/token", {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username, password, scope: "openid" }),
  });
const UPSERT = `INSERT INTO "OidcPayload" ("realmId", "model", "id", "payload", "expiresAt") VALUES ($1, $2, $3, $4, NULL)`;

/** A trigger that refuses the LOGIN event of one user: the database turns down the event, not the tokens. */
async function refuseEventsOf(userId: string): Promise<() => Promise<void>> {
  if (testDbKind === "sqlite") {
    await prisma().$executeRawUnsafe(`CREATE TRIGGER refuse_login BEFORE INSERT ON "Event" WHEN NEW."userId" = '${userId}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    return async () => void (await prisma().$executeRawUnsafe(`DROP TRIGGER refuse_login`));
  }
  await prisma().$executeRawUnsafe(`CREATE FUNCTION refuse_login() RETURNS trigger AS $$ BEGIN IF NEW."userId" = '${userId}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
  await prisma().$executeRawUnsafe(`CREATE TRIGGER refuse_login BEFORE INSERT ON "Event" FOR EACH ROW EXECUTE FUNCTION refuse_login()`);
  return async () => {
    await prisma().$executeRawUnsafe(`DROP TRIGGER refuse_login ON "Event"`);
    await prisma().$executeRawUnsafe(`DROP FUNCTION refuse_login()`);
  };
}

describe("one commit per direct grant", () => {
  it("answers once the grant, the refresh token and the LOGIN event are stored", async () => {
    const res = await grant("alice", "alice-password");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { refresh_token: string };
    const alice = await prisma().user.findFirstOrThrow({ where: { username: "alice", realm: { name: "acme" } } });
    const refresh = await prisma().oidcPayload.findFirstOrThrow({ where: { model: "RefreshToken", id: storageId(body.refresh_token) } });
    expect(await prisma().oidcPayload.count({ where: { model: "Grant", id: storageId(refresh.grantId ?? "") } })).toBe(1);
    expect(await prisma().event.count({ where: { type: "LOGIN", userId: alice.id } })).toBeGreaterThanOrEqual(1);
  });

  it("a refused LOGIN event rolls back the grant: no tokens answered, none stored", async () => {
    const bob = await prisma().user.findFirstOrThrow({ where: { username: "bob", realm: { name: "acme" } } });
    const grantsBefore = await prisma().oidcPayload.count({ where: { model: "Grant" } });
    const tokensBefore = await prisma().oidcPayload.count({ where: { model: "RefreshToken" } });
    const undo = await refuseEventsOf(bob.id);
    try {
      const res = await grant("bob", "bob-password");
      expect(res.status).toBe(500);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ error: "server_error" });
      expect(body).not.toHaveProperty("access_token");
      // Alice's login in the meantime is stored (only bob's event and tokens are refused).
      expect((await grant("alice", "alice-password")).status).toBe(200);
    } finally {
      await undo();
    }
    expect(await prisma().oidcPayload.count({ where: { model: "Grant" } })).toBe(grantsBefore + 1);
    expect(await prisma().oidcPayload.count({ where: { model: "RefreshToken" } })).toBe(tokensBefore + 1);
    expect(await prisma().event.count({ where: { type: "LOGIN", userId: bob.id } })).toBe(0);
    // Bob can log in again once the database takes his events.
    expect((await grant("bob", "bob-password")).status).toBe(200);
  });

  it("EventStore.commit: a refused write loses its event, a refused event its writes; the rest of the batch is stored", async () => {
    const events = new EventStore(prisma(), createLogger("silent"));
    const realm = await prisma().realm.findUniqueOrThrow({ where: { name: "acme" } });
    const row = (id: string) => ({ sql: UPSERT, params: [realm.id, "Grant", storageId(id), "{}"] });
    await prisma().oidcPayload.create({ data: { realmId: realm.id, model: "Grant", id: storageId("taken"), payload: "{}" } });
    const results = await Promise.allSettled([
      events.commit({ realmId: realm.id, type: "LOGIN", details: { case: "write refused" } }, [row("taken")], 3000),
      events.commit({ realmId: "no-such-realm", type: "LOGIN", details: { case: "event refused" } }, [row("orphan")], 3000),
      events.commit({ realmId: realm.id, type: "LOGIN", details: { case: "fine" } }, [row("fine")], 3000),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    const stored = await prisma().event.findMany({ where: { realmId: realm.id, type: "LOGIN", clientId: null } });
    expect(stored.map((e) => (e.details as { case?: string }).case).filter(Boolean)).toEqual(["fine"]);
    expect(await prisma().oidcPayload.count({ where: { model: "Grant", id: { in: [storageId("orphan"), storageId("fine")] } } })).toBe(1);
    expect(await prisma().oidcPayload.count({ where: { model: "Grant", id: storageId("fine") } })).toBe(1);
  });
});
