// The admin REST API: authorised by a master-realm administrator's token from admin-cli; realms, clients and
// users CRUD with Keycloak's paths and shapes; set password; events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPki, intermediateCrl } from "../helpers/pki.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

const json = async <T = Record<string, unknown>>(res: Response | Awaited<ReturnType<TestServer["fetch"]>>) => (await res.json()) as T;
const token = (realm: string, form: Record<string, string>) =>
  server.fetch(`/realms/${realm}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams(form) });

describe("authorisation", () => {
  it("refuses requests without a token, with a bad token, and with a token of a non-admin user", async () => {
    const none = await server.fetch("/admin/realms");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect(await json(none)).toMatchObject({ error: "invalid_token" });

    const bad = await server.fetch("/admin/realms", { headers: { authorization: "Bearer not-a-token" } });
    expect(bad.status).toBe(401);

    // A token from another realm is not a master token.
    const demo = server.started.boot.demo;
    const demoToken = await json<{ access_token: string }>(await token("demo", { grant_type: "password", client_id: demo?.clientId ?? "", client_secret: demo?.clientSecret ?? "", username: "demo", password: demo?.password ?? "" }));
    expect((await server.fetch("/admin/realms", { headers: { authorization: `Bearer ${demoToken.access_token}` } })).status).toBe(401);

    // A master user without the admin role.
    const master = await json<{ id: string }[]>(await server.admin("GET", "/admin/realms/master/users?username=admin&exact=true"));
    expect(master).toHaveLength(1);
    expect((await server.admin("POST", "/admin/realms/master/users", { username: "auditor", credentials: [{ type: "password", value: "auditor-pw" }] })).status).toBe(201);
    const auditor = await json<{ access_token: string }>(await token("master", { grant_type: "password", client_id: "admin-cli", username: "auditor", password: "auditor-pw" }));
    const forbidden = await server.fetch("/admin/realms", { headers: { authorization: `Bearer ${auditor.access_token}` } });
    expect(forbidden.status).toBe(403);
    expect(await json(forbidden)).toMatchObject({ error: "forbidden" });
  });
});

describe("realms", () => {
  it("creates a realm with its clients and users, like Keycloak's POST /admin/realms", async () => {
    const res = await server.admin("POST", "/admin/realms", {
      realm: "shop",
      displayName: "Shop",
      clients: [{ clientId: "shop-web", redirectUris: ["https://shop.example.test/*"] }, { clientId: "shop-cli", publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false }],
      users: [{ username: "Erin", email: "erin@example.org", credentials: [{ type: "password", value: "erin-pw" }], realmRoles: ["buyer"] }],
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`${server.base}/admin/realms/shop`);
    const summary = await json<{ generatedSecrets: Record<string, string> }>(res);
    // A confidential client without a secret gets one, shown once.
    expect(summary.generatedSecrets["shop-web"]).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect((await server.admin("POST", "/admin/realms", { realm: "shop" })).status).toBe(409);
    expect(await json(await server.admin("GET", "/admin/realms/shop"))).toMatchObject({ realm: "shop", displayName: "Shop", enabled: true, accessTokenLifespan: 300 });
    const list = await json<{ realm: string }[]>(await server.admin("GET", "/admin/realms"));
    expect(list.map((r) => r.realm)).toEqual(expect.arrayContaining(["master", "demo", "shop"]));

    const login = await token("shop", { grant_type: "password", client_id: "shop-cli", username: "erin", password: "erin-pw" });
    expect(login.status).toBe(200);
  });

  it("updates settings partially and applies them to the running provider at once", async () => {
    const put = await server.admin("PUT", "/admin/realms/shop", { accessTokenLifespan: 120, displayName: "Shop & Co" });
    expect(put.status).toBe(204);
    expect(await json(await server.admin("GET", "/admin/realms/shop"))).toMatchObject({ displayName: "Shop & Co", accessTokenLifespan: 120, loginWithEmailAllowed: true });
    const login = await json<{ expires_in: number }>(await token("shop", { grant_type: "password", client_id: "shop-cli", username: "erin", password: "erin-pw" }));
    expect(login.expires_in).toBe(120);
  });

  it("disabling a realm takes its endpoints away; the master realm cannot be disabled, renamed or deleted", async () => {
    expect((await server.admin("PUT", "/admin/realms/shop", { enabled: false })).status).toBe(204);
    expect((await server.fetch("/realms/shop/.well-known/openid-configuration")).status).toBe(404);
    expect((await server.admin("PUT", "/admin/realms/shop", { enabled: true })).status).toBe(204);
    expect((await server.fetch("/realms/shop/.well-known/openid-configuration")).status).toBe(200);

    const disable = await server.admin("PUT", "/admin/realms/master", { enabled: false });
    expect(disable.status).toBe(400);
    expect(await json(disable)).toEqual({ error: "invalid_request", error_description: "enabled: the master realm cannot be disabled" });
    expect((await server.admin("PUT", "/admin/realms/master", { realm: "boss" })).status).toBe(400);
    expect((await server.admin("DELETE", "/admin/realms/master")).status).toBe(400);
  });

  it("names the bad field of an invalid update and changes nothing", async () => {
    const before = await json(await server.admin("GET", "/admin/realms/shop"));
    const res = await server.admin("PUT", "/admin/realms/shop", { accessTokenLifespan: "long", failureFactor: 0, displayName: "changed" });
    expect(res.status).toBe(400);
    const body = await json<{ error_description: string }>(res);
    expect(body.error_description).toContain("accessTokenLifespan");
    expect(body.error_description).toContain("failureFactor");
    expect(await json(await server.admin("GET", "/admin/realms/shop"))).toEqual(before);
    const unknown = await server.admin("PUT", "/admin/realms/shop", { noSuchField: 1 });
    expect(unknown.status).toBe(400);
    expect((await json<{ error_description: string }>(unknown)).error_description).toContain("noSuchField");
  });

  it("deletes a realm with everything in it", async () => {
    expect((await server.admin("POST", "/admin/realms", { realm: "temp", users: [{ username: "x" }] })).status).toBe(201);
    expect((await server.admin("DELETE", "/admin/realms/temp")).status).toBe(204);
    expect((await server.admin("GET", "/admin/realms/temp")).status).toBe(404);
    expect((await server.fetch("/realms/temp/.well-known/openid-configuration")).status).toBe(404);
  });
});

describe("clients", () => {
  it("creates, reads, updates, regenerates the secret of, and deletes a client", async () => {
    const created = await server.admin("POST", "/admin/realms/shop/clients", { clientId: "billing", directAccessGrantsEnabled: true, serviceAccountsEnabled: true });
    expect(created.status).toBe(201);
    const { id, secret } = await json<{ id: string; secret: string }>(created);
    expect(created.headers.get("location")).toBe(`${server.base}/admin/realms/shop/clients/${id}`);
    expect(secret).toBeTruthy();

    const cc = (s: string) => server.fetch("/realms/shop/protocol/openid-connect/token", {
      method: "POST", body: new URLSearchParams({ grant_type: "client_credentials", client_id: "billing", client_secret: s }),
    });
    expect((await cc(secret)).status).toBe(200);

    const view = await json(await server.admin("GET", `/admin/realms/shop/clients/${id}`));
    expect(view).toMatchObject({ id, clientId: "billing", secretSet: true, publicClient: false });
    expect(view).not.toHaveProperty("secretHash");
    expect(view).not.toHaveProperty("secret");
    expect(await json<unknown[]>(await server.admin("GET", "/admin/realms/shop/clients?clientId=billing"))).toHaveLength(1);

    expect((await server.admin("PUT", `/admin/realms/shop/clients/${id}`, { serviceAccountsEnabled: false })).status).toBe(204);
    expect(await json(await cc(secret))).toMatchObject({ error: "unauthorized_client", error_description: "Client not enabled to retrieve service account" });
    expect((await server.admin("PUT", `/admin/realms/shop/clients/${id}`, { serviceAccountsEnabled: true })).status).toBe(204);

    const regen = await json<{ type: string; value: string }>(await server.admin("POST", `/admin/realms/shop/clients/${id}/client-secret`));
    expect(regen.type).toBe("secret");
    expect((await cc(secret)).status).toBe(401);
    expect((await cc(regen.value)).status).toBe(200);

    const dup = await server.admin("POST", "/admin/realms/shop/clients", { clientId: "billing" });
    expect(dup.status).toBe(409);
    expect(await json(dup)).toEqual({ error: "conflict", error_description: "Client billing already exists" });

    expect((await server.admin("DELETE", `/admin/realms/shop/clients/${id}`)).status).toBe(204);
    expect((await server.admin("GET", `/admin/realms/shop/clients/${id}`)).status).toBe(404);
    expect((await cc(regen.value)).status).toBe(401);
  });

  it("refuses invalid clients with the field named", async () => {
    const res = await server.admin("POST", "/admin/realms/shop/clients", { clientId: "pub", publicClient: true, secret: "x", redirectUris: ["not a uri"] });
    expect(res.status).toBe(400);
    const { error_description } = await json<{ error_description: string }>(res);
    expect(error_description).toContain("redirectUris[0]");
    expect(error_description).toContain("secret: a public client has no secret");
  });
});

describe("users", () => {
  it("creates, searches, updates, sets the password of, and deletes a user", async () => {
    const created = await server.admin("POST", "/admin/realms/shop/users", { username: "frank", email: "Frank@Example.org", firstName: "Frank", attributes: { dept: ["ops"] } });
    expect(created.status).toBe(201);
    const id = created.headers.get("location")?.split("/").pop() ?? "";
    expect(await json(await server.admin("GET", `/admin/realms/shop/users/${id}`))).toMatchObject({ id, username: "frank", email: "frank@example.org", attributes: { dept: ["ops"] }, enabled: true });
    expect((await json<unknown[]>(await server.admin("GET", "/admin/realms/shop/users?search=fra"))).length).toBe(1);
    expect((await json<unknown[]>(await server.admin("GET", "/admin/realms/shop/users?email=frank@example.org&exact=true"))).length).toBe(1);

    expect((await server.admin("PUT", `/admin/realms/shop/users/${id}`, { lastName: "Castle", attributes: { dept: ["sec", "ops"] } })).status).toBe(204);
    expect(await json(await server.admin("GET", `/admin/realms/shop/users/${id}`))).toMatchObject({ firstName: "Frank", lastName: "Castle", attributes: { dept: ["sec", "ops"] } });

    const pw = (p: string) => token("shop", { grant_type: "password", client_id: "shop-cli", username: "frank", password: p });
    expect((await pw("frank-pw")).status).toBe(400);
    expect((await server.admin("PUT", `/admin/realms/shop/users/${id}/reset-password`, { type: "password", value: "frank-pw", temporary: false })).status).toBe(204);
    expect((await pw("frank-pw")).status).toBe(200);
    expect((await server.admin("PUT", `/admin/realms/shop/users/${id}/reset-password`, { type: "password", value: "" })).status).toBe(400);

    expect((await server.admin("PUT", `/admin/realms/shop/users/${id}`, { enabled: false })).status).toBe(204);
    expect(await json(await pw("frank-pw"))).toMatchObject({ error_description: "Account disabled" });

    expect(await json(await server.admin("POST", "/admin/realms/shop/users", { username: "FRANK" }))).toEqual({ error: "conflict", error_description: "User exists with same username" });
    expect(await json(await server.admin("POST", "/admin/realms/shop/users", { username: "frank2", email: "FRANK@example.org" }))).toEqual({ error: "conflict", error_description: "User exists with same email" });

    expect((await server.admin("DELETE", `/admin/realms/shop/users/${id}`)).status).toBe(204);
    expect((await server.admin("GET", `/admin/realms/shop/users/${id}`)).status).toBe(404);
  });
});

describe("CRL cache", () => {
  it("POST /admin/realms/{realm}/clear-crl-cache empties the CRL cache (Keycloak 26.2's endpoint)", async () => {
    const pki = buildPki();
    const cache = server.started.services.revocation.crlCache;
    await cache.get("url:http://pki.example/ca.crl", async () => intermediateCrl(pki));
    expect(cache.size).toBe(1);
    expect((await server.fetch("/admin/realms/master/clear-crl-cache", { method: "POST" })).status).toBe(401);
    expect((await server.admin("POST", "/admin/realms/no-such-realm/clear-crl-cache")).status).toBe(404);
    expect(cache.size).toBe(1);
    expect((await server.admin("POST", "/admin/realms/master/clear-crl-cache")).status).toBe(204);
    expect(cache.size).toBe(0);
  });
});

describe("events", () => {
  it("records logins and failures and filters them by type, client and date", async () => {
    await token("shop", { grant_type: "password", client_id: "shop-cli", username: "erin", password: "wrong" });
    await token("shop", { grant_type: "password", client_id: "shop-cli", username: "erin", password: "erin-pw" });
    const all = await json<{ type: string; clientId: string; error: string | null; ipAddress: string; details: Record<string, unknown>; time: number }[]>(
      await server.admin("GET", "/admin/realms/shop/events?type=LOGIN,LOGIN_ERROR&client=shop-cli&max=10"),
    );
    expect(all[0]).toMatchObject({ type: "LOGIN", clientId: "shop-cli", ipAddress: "127.0.0.1", details: { grant_type: "password", username: "erin" } });
    expect(all.find((e) => e.type === "LOGIN_ERROR")).toMatchObject({ error: "invalid_user_credentials" });
    const today = new Date().toISOString().slice(0, 10);
    expect((await json<unknown[]>(await server.admin("GET", `/admin/realms/shop/events?dateFrom=${today}&dateTo=${today}`))).length).toBeGreaterThan(0);
    expect(await json<unknown[]>(await server.admin("GET", "/admin/realms/shop/events?dateTo=2000-01-01"))).toEqual([]);
    expect((await server.admin("GET", "/admin/realms/shop/events?dateFrom=yesterday")).status).toBe(400);
    expect((await server.admin("GET", "/admin/realms/shop/events?max=-1")).status).toBe(400);
  });
});
