// Password brute-force protection: temporary lockout per user and per client address, with Keycloak's backoff,
// indistinguishable from a wrong password, recorded as LOGIN_ERROR events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRealm } from "../../src/admin/import.ts";
import { BruteForceGuard } from "../../src/users/brute-force.ts";
import { Browser, errorBanner, formOf } from "../helpers/browser.ts";
import { REDIRECT } from "../helpers/fixtures.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { runCli } from "../helpers/cli.ts";
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
  // Locks that outlast a CLI start on a loaded machine (seconds): an unlock must find the account still locked.
  await importRealm(server.started.services.db.prisma, { ...realm("bf-admin"), waitIncrementSeconds: 60, maxFailureWaitSeconds: 120 });
  await importRealm(server.started.services.db.prisma, { ...realm("bf-permanent"), permanentLockout: true, maxTemporaryLockouts: 1, waitIncrementSeconds: 1 });
  await importRealm(server.started.services.db.prisma, { ...realm("bf-ip4"), ipFailureFactor: 4 });
  await importRealm(server.started.services.db.prisma, { ...realm("bf-ip0"), ipFailureFactor: 0 });
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


const userId = async (realmName: string, username: string) =>
  ((await (await server.admin("GET", `/admin/realms/${realmName}/users?username=${username}&exact=true`)).json()) as { id: string }[])[0]?.id ?? "";
const attack = (realmName: string, id = "") => `/admin/realms/${realmName}/attack-detection/brute-force/users${id ? `/${id}` : ""}`;

describe("Keycloak's attack-detection endpoints", () => {
  it("GET shows an account's failures, its lock and the last address; an unknown id answers zeros", async () => {
    const id = await userId("bf-admin", "u1");
    const none = await server.admin("GET", attack("bf-admin", id));
    expect(await none.json()).toEqual({ disabled: false, numFailures: 0, numTemporaryLockouts: 0, lastFailure: 0, lastIPFailure: "n/a", failedLoginNotBefore: 0 });
    const before = Date.now();
    for (let i = 0; i < 2; i++) await directGrant("bf-admin", "u1", "wrong");
    const two = (await (await server.admin("GET", attack("bf-admin", id))).json()) as Record<string, unknown>;
    expect(two).toMatchObject({ disabled: false, numFailures: 2, numTemporaryLockouts: 0, lastIPFailure: expect.stringMatching(/127\.0\.0\.1/), failedLoginNotBefore: 0 });
    expect(two.lastFailure as number).toBeGreaterThanOrEqual(before - 1000);
    await directGrant("bf-admin", "u1", "wrong");
    const locked = (await (await server.admin("GET", attack("bf-admin", id))).json()) as Record<string, number | boolean>;
    expect(locked).toMatchObject({ disabled: true, numFailures: 3, numTemporaryLockouts: 1 });
    expect(locked.failedLoginNotBefore as number).toBeGreaterThan(Date.now() / 1000);
    expect(await (await server.admin("GET", attack("bf-admin", "no-such-user"))).json()).toMatchObject({ disabled: false, numFailures: 0 });
    expect((await server.admin("GET", attack("no-such-realm", id))).status).toBe(404);
  });

  it("DELETE of one account unlocks it at once (204); DELETE of all unlocks every account and address", async () => {
    const id = await userId("bf-admin", "u2");
    for (let i = 0; i < 3; i++) await directGrant("bf-admin", "u2", "wrong");
    expect((await directGrant("bf-admin", "u2", "u2-password")).status).toBe(400);
    expect((await server.admin("DELETE", attack("bf-admin", id))).status).toBe(204);
    expect((await directGrant("bf-admin", "u2", "u2-password")).status).toBe(200);

    for (let i = 0; i < 3; i++) await directGrant("bf-admin", "u3", "wrong");
    expect((await directGrant("bf-admin", "u3", "u3-password")).status).toBe(400);
    expect((await server.admin("DELETE", attack("bf-admin"))).status).toBe(204);
    expect((await directGrant("bf-admin", "u3", "u3-password")).status).toBe(200);
    expect(await (await server.admin("GET", attack("bf-admin", await userId("bf-admin", "u1")))).json()).toMatchObject({ numFailures: 0, disabled: false });
  });

  it("x509-idp user unlock <realm> <username> does the same from the command line", async () => {
    for (let i = 0; i < 3; i++) await directGrant("bf-admin", "u4", "wrong");
    expect((await directGrant("bf-admin", "u4", "u4-password")).status).toBe(400);
    const r = await runCli(server.db, ["user", "unlock", "bf-admin", "u4"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ username: "u4", wasLocked: true, numFailures: 3 });
    expect((await directGrant("bf-admin", "u4", "u4-password")).status).toBe(200);
    const unknown = await runCli(server.db, ["user", "unlock", "bf-admin", "nobody"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no user "nobody"');
  });
});

describe("permanent lockout (Keycloak's permanentLockout, maxTemporaryLockouts)", () => {
  it("locks temporarily up to maxTemporaryLockouts times, then disables the account; unlocking enables it again", async () => {
    const id = await userId("bf-permanent", "bob");
    for (let i = 0; i < 3; i++) await directGrant("bf-permanent", "bob", "wrong");
    expect(await (await server.admin("GET", attack("bf-permanent", id))).json()).toMatchObject({ disabled: true, numTemporaryLockouts: 1 });
    expect(((await (await server.admin("GET", `/admin/realms/bf-permanent/users/${id}`)).json()) as { enabled: boolean }).enabled).toBe(true);
    await new Promise((r) => setTimeout(r, 1_100)); // waitIncrementSeconds × ⌊3 / 3⌋ = 1 s
    expect((await directGrant("bf-permanent", "bob", "wrong")).status).toBe(400);
    const user = (await (await server.admin("GET", `/admin/realms/bf-permanent/users/${id}`)).json()) as { enabled: boolean; attributes: Record<string, string[]> };
    expect(user.enabled).toBe(false);
    expect(user.attributes.disabledReason).toEqual(["permanentLockout"]);
    expect(await (await server.admin("GET", attack("bf-permanent", id))).json()).toMatchObject({ disabled: true, failedLoginNotBefore: Number.MAX_SAFE_INTEGER });
    expect(await directGrant("bf-permanent", "bob", "bob-password")).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Account disabled" } });
    const disabledEvents = await events("bf-permanent", "USER_DISABLED_BY_PERMANENT_LOCKOUT");
    expect(disabledEvents).toHaveLength(1);
    expect(disabledEvents[0]?.userId).toBe(id);
    expect(await events("bf-permanent", "USER_DISABLED_BY_TEMPORARY_LOCKOUT")).toHaveLength(1);

    expect((await server.admin("DELETE", attack("bf-permanent", id))).status).toBe(204);
    const after = (await (await server.admin("GET", `/admin/realms/bf-permanent/users/${id}`)).json()) as { enabled: boolean; attributes: Record<string, string[]> };
    expect(after.enabled).toBe(true);
    expect(after.attributes.disabledReason).toBeUndefined();
    expect((await directGrant("bf-permanent", "bob", "bob-password")).status).toBe(200);
  });

  it("an account an administrator disabled stays disabled when its lockout is cleared", async () => {
    const id = await userId("bf-permanent", "alice");
    expect((await server.admin("PUT", `/admin/realms/bf-permanent/users/${id}`, { enabled: false })).status).toBe(204);
    expect((await server.admin("DELETE", attack("bf-permanent", id))).status).toBe(204);
    expect(((await (await server.admin("GET", `/admin/realms/bf-permanent/users/${id}`)).json()) as { enabled: boolean }).enabled).toBe(false);
  });
});

describe("the per-address limit (ipFailureFactor)", () => {
  it("locks an address after ipFailureFactor failures across accounts; 0 never locks an address", async () => {
    for (let i = 1; i <= 4; i++) await directGrant("bf-ip4", `u${i}`, "wrong");
    expect((await directGrant("bf-ip4", "alice", "alice-password")).status).toBe(400);
    for (let i = 1; i <= 9; i++) for (let j = 0; j < 2; j++) await directGrant("bf-ip0", `u${i}`, "wrong");
    expect((await directGrant("bf-ip0", "alice", "alice-password")).status).toBe(200);
  });
});

describe("the policy as realm settings", () => {
  it("reads and writes Keycloak's names through the admin API; bad values are a 400 naming the field", async () => {
    const got = (await (await server.admin("GET", "/admin/realms/bf-permanent")).json()) as Record<string, unknown>;
    expect(got).toMatchObject({ bruteForceProtected: true, failureFactor: 3, waitIncrementSeconds: 1, maxFailureWaitSeconds: 4, maxDeltaTimeSeconds: 43200, permanentLockout: true, maxTemporaryLockouts: 1 });
    expect(got).not.toHaveProperty("ipFailureFactor");
    expect((await server.admin("PUT", "/admin/realms/bf-permanent", { permanentLockout: false, ipFailureFactor: 12 })).status).toBe(204);
    expect(await (await server.admin("GET", "/admin/realms/bf-permanent")).json()).toMatchObject({ permanentLockout: false, ipFailureFactor: 12 });
    const bad = await server.admin("PUT", "/admin/realms/bf-permanent", { permanentLockout: "yes", maxTemporaryLockouts: -1 });
    expect(bad.status).toBe(400);
    const { error_description } = (await bad.json()) as { error_description: string };
    expect(error_description).toContain("permanentLockout");
    expect(error_description).toContain("maxTemporaryLockouts");
  });

  it("a new realm is protected by default", async () => {
    expect((await server.admin("POST", "/admin/realms", { realm: "bf-default" })).status).toBe(201);
    expect(await (await server.admin("GET", "/admin/realms/bf-default")).json()).toMatchObject({ bruteForceProtected: true, failureFactor: 10, permanentLockout: false, maxTemporaryLockouts: 0 });
  });
});
