// Outages are answers (issue #12, item 3): which errors mean "the database cannot be reached now", and the audit
// log's writer keeping events through an outage, in order, while requests wait for theirs with a bound.
import { describe, expect, it } from "vitest";
import type { Prisma } from "../../src/db/database.ts";
import { DatabaseUnavailableError, isDatabaseUnavailable } from "../../src/db/unavailable.ts";
import { EventStore } from "../../src/events/event-store.ts";
import { createLogger } from "../../src/log.ts";

const err = (o: Record<string, unknown>) => Object.assign(new Error(String(o.message ?? "x")), o);

describe("a database outage, told from a mistake", () => {
  it.each([
    ["node-postgres: connection refused", err({ code: "ECONNREFUSED" })],
    ["node-postgres: a pooled connection cut", err({ message: "Connection terminated unexpectedly" })],
    ["node-postgres: no free connection in time", err({ message: "timeout exceeded when trying to connect" })],
    ["PostgreSQL shutting down (57P01)", err({ code: "57P01" })],
    ["PostgreSQL: too many connections (53300)", err({ code: "53300" })],
    ["PostgreSQL: connection failure (08006)", err({ code: "08006" })],
    ["Prisma P1001", err({ code: "P1001" })],
    ["Prisma: pool timeout P2024", err({ code: "P2024" })],
    ["Prisma's driver adapter", err({ code: "P2010", cause: { kind: "DatabaseNotReachable" } })],
    ["better-sqlite3: busy beyond its timeout", err({ code: "SQLITE_BUSY", message: "database is locked" })],
    ["wrapped", new Error("outer", { cause: err({ code: "ECONNRESET" }) })],
    ["already classified", new DatabaseUnavailableError("events")],
  ])("%s is an outage", (_name, e) => {
    expect(isDatabaseUnavailable(e)).toBe(true);
  });

  it.each([
    ["a unique violation", err({ code: "P2002" })],
    ["a missing row", err({ code: "P2025" })],
    ["a constraint (23503)", err({ code: "23503" })],
    ["a bug", new TypeError("x is undefined")],
    ["nothing", undefined],
  ])("%s is not", (_name, e) => {
    expect(isDatabaseUnavailable(e)).toBe(false);
  });
});

/** A database whose event table fails as told: `down` refuses as an outage would, `bad` events are refused alone. */
function fakeDb(state: { down: boolean; stored: string[]; bad?: string }) {
  return {
    event: {
      createMany: async ({ data }: { data: { type: string; clientId: string | null }[] }) => {
        if (state.down) throw err({ code: "P1001", message: "Can't reach database server" });
        if (state.bad && data.some((d) => d.clientId === state.bad)) throw err({ code: "P2003", message: "foreign key" });
        state.stored.push(...data.map((d) => d.clientId ?? ""));
        return { count: data.length };
      },
    },
  } as unknown as Prisma;
}

describe("the audit log through an outage", () => {
  const log = createLogger("silent");

  it("keeps events while the database is down, stores them in order when it answers, and bounds every wait", async () => {
    const state = { down: true, stored: [] as string[] };
    const events = new EventStore(fakeDb(state), log);
    for (const c of ["a", "b", "c"]) events.record({ realmId: "r", type: "LOGIN", clientId: c });
    await expect(events.settle(200)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(events.pending).toBe(3);
    events.record({ realmId: "r", type: "LOGIN", clientId: "d" });
    state.down = false;
    await events.settle(5000);
    expect(state.stored).toEqual(["a", "b", "c", "d"]);
    expect(events.pending).toBe(0);
  });

  it("drops only an event the database refuses on its merits (its realm was deleted)", async () => {
    const state = { down: false, stored: [] as string[], bad: "gone" };
    const events = new EventStore(fakeDb(state), log);
    for (const c of ["a", "gone", "b"]) events.record({ realmId: "r", type: "LOGIN", clientId: c });
    await events.settle(1000);
    expect(state.stored).toEqual(["a", "b"]);
  });

  it("a request waits only for a write that starts at once (group commit), not for the batching delay", async () => {
    const state = { down: false, stored: [] as string[] };
    const events = new EventStore(fakeDb(state), log);
    events.record({ realmId: "r", type: "LOGIN", clientId: "now" });
    const t0 = performance.now();
    await events.settle(1000);
    expect(performance.now() - t0).toBeLessThan(15);
    expect(state.stored).toEqual(["now"]);
  });
});
