// Password brute-force protection: temporary lockout per user and per client address, with Keycloak's backoff,
// indistinguishable from a wrong password, recorded as LOGIN_ERROR events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRealm } from "../../src/admin/import.ts";
import { BruteForceGuard } from "../../src/users/brute-force.ts";
import { Browser, errorBanner, formOf } from "../helpers/browser.ts";
import { REDIRECT } from "../helpers/fixtures.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;

const realm = (name: string) => ({
  realm: name,
  failureFactor: 3,
  waitIncrementSeconds: 2,
  maxFailureWaitSeconds: 4,
  clients: [{ clientId: "app", secret: "app-secret", redirectUris: [REDIRECT], directAccessGrantsEnabled: true }],
  users: ["alice", "bob", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"].map((username) => ({
    username, credentials: [{ type: "password", value: `${username}-password` }],
  })),
});

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ["bf-user", "bf-ip"]) await importRealm(server.started.services.db.prisma, realm(name));
  await importRealm(server.started.services.db.prisma, { ...realm("bf-off"), bruteForceProtected: false });
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

async function directGrant(realmName: string, username: string, password: string) {
  const res = await server.fetch(`/realms/${realmName}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "app", client_secret: "app-secret", username, password }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function events(realmName: string, type: string) {
  const res = await server.admin("GET", `/admin/realms/${realmName}/events?type=${type}`);
  return (await res.json()) as { error: string; details: Record<string, unknown>; userId: string | null }[];
}

describe("brute-force lockout", () => {
  it("locks an account after failureFactor wrong passwords, refuses even the right one, then lets it in again", async () => {
    for (let i = 0; i < 3; i++) expect((await directGrant("bf-user", "bob", "wrong")).status).toBe(400);
    const locked = await directGrant("bf-user", "bob", "bob-password");
    expect(locked).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid user credentials" } });

    // The browser login gives the same answer as for a wrong password: no account-state oracle.
    const config = await relyingParty(server, "bf-user", "app", "app-secret");
    const browser = new Browser(server.dispatcher);
    const page = await browser.navigate((await authorizationRequest(config, REDIRECT)).url, REDIRECT);
    const form = formOf(page, "kc-form-login");
    const refused = await browser.request(form.action, { form: { ...form.fields, username: "bob", password: "bob-password" } });
    expect(errorBanner(refused)).toBe("Invalid username or password.");

    // Other accounts are not affected.
    expect((await directGrant("bf-user", "alice", "alice-password")).status).toBe(200);

    const errors = await events("bf-user", "LOGIN_ERROR");
    expect(errors.filter((e) => e.error === "user_temporarily_disabled").length).toBeGreaterThanOrEqual(2);
    expect(errors.some((e) => e.details.locked_by === "user")).toBe(true);

    await new Promise((r) => setTimeout(r, 2_100)); // waitIncrementSeconds × ⌊3 / 3⌋ = 2 s
    expect((await directGrant("bf-user", "bob", "bob-password")).status).toBe(200);
    // A success clears the account's counter: one more failure does not lock again.
    expect((await directGrant("bf-user", "bob", "wrong")).status).toBe(400);
    expect((await directGrant("bf-user", "bob", "bob-password")).status).toBe(200);
  });

  it("locks a client address that sprays passwords across many accounts", async () => {
    // Three times the account threshold, spread so that no single account reaches it.
    for (let i = 1; i <= 9; i++) expect((await directGrant("bf-ip", `u${i}`, "wrong")).status).toBe(400);
    const res = await directGrant("bf-ip", "alice", "alice-password");
    expect(res.body.error_description).toBe("Invalid user credentials");
    const errors = await events("bf-ip", "LOGIN_ERROR");
    expect(errors.some((e) => e.details.locked_by === "ip")).toBe(true);
  });

  it("forgets counters after maxDeltaTime, but not an active lockout", async () => {
    const prisma = server.started.services.db.prisma;
    const realm = await prisma.realm.findUniqueOrThrow({ where: { name: "bf-user" } });
    const old = new Date(Date.now() - 13 * 3600 * 1000);
    await prisma.loginFailure.createMany({ data: [
      { realmId: realm.id, key: "ip:192.0.2.1", failures: 2, lastFailure: old },
      { realmId: realm.id, key: "ip:192.0.2.2", failures: 40, lastFailure: old, lockedUntil: new Date(Date.now() + 60_000) },
      { realmId: realm.id, key: "ip:192.0.2.3", failures: 1, lastFailure: new Date() },
    ] });
    expect(await new BruteForceGuard(prisma).sweep()).toBeGreaterThanOrEqual(1);
    const left = (await prisma.loginFailure.findMany({ where: { realmId: realm.id, key: { startsWith: "ip:192.0.2." } } })).map((r) => r.key).sort();
    expect(left).toEqual(["ip:192.0.2.2", "ip:192.0.2.3"]);
  });

  it("does nothing when the realm turns protection off", async () => {
    for (let i = 0; i < 5; i++) await directGrant("bf-off", "bob", "wrong");
    expect((await directGrant("bf-off", "bob", "bob-password")).status).toBe(200);
  });
});
