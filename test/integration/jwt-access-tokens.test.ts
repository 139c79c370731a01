// Access tokens as Keycloak issues them: JWTs an application validates against the realm's JWKS, with no row per
// token; revoked and logged-out tokens are inactive at introspection and refused at userinfo; `access.token.format:
// opaque` keeps stored opaque tokens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { createLocalJWKSet, jwtVerify } from "jose";
import { Browser } from "../helpers/browser.ts";
import { acmeRealm, APP_SECRET, LOGOUT_REDIRECT, REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { authorizationRequest, loginWithPassword, relyingParty } from "../helpers/rp.ts";
import { decodeJwt } from "../helpers/jwt.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { importRealm } from "../../src/admin/import.ts";
import { storageId } from "../../src/oidc/adapter.ts";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  const realm = acmeRealm();
  await seedAcme(server, {
    clients: [
      ...realm.clients,
      { clientId: "legacy-app", secret: APP_SECRET, redirectUris: [REDIRECT], directAccessGrantsEnabled: true, serviceAccountsEnabled: true, attributes: { "access.token.format": "opaque" } },
    ],
  });
  await importRealm(server.started.services.db.prisma, { realm: "other", clients: [{ clientId: "web-app", secret: APP_SECRET, directAccessGrantsEnabled: true }], users: [{ username: "alice", credentials: [{ type: "password", value: "alice-password" }] }] });
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

const endpoint = (path: string, realm = "acme") => `${server.issuer(realm)}/protocol/openid-connect/${path}`;
const basic = (id: string, secret = APP_SECRET) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const post = (url: string, form: Record<string, string>, client = "web-app") =>
  server.fetch(url, { method: "POST", body: new URLSearchParams(form), headers: { authorization: basic(client) } });
const passwordGrant = async (client = "web-app", realm = "acme") => {
  const res = await post(endpoint("token", realm), { grant_type: "password", username: "alice", password: "alice-password", scope: "openid" }, client);
  expect(res.status).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token: string; id_token: string };
};
const introspect = async (token: string, client = "web-app") => (await (await post(endpoint("token/introspect"), { token }, client)).json()) as Record<string, unknown>;
const userinfo = (token: string, realm = "acme") => server.fetch(endpoint("userinfo", realm), { headers: { authorization: `Bearer ${token}` } });
const jwks = async (realm = "acme") => createLocalJWKSet((await (await server.fetch(`/realms/${realm}/protocol/openid-connect/certs`)).json()) as Parameters<typeof createLocalJWKSet>[0]);

describe("JWT access tokens (the default)", () => {
  it("are verified with jose against the realm's JWKS and carry Keycloak's claims", async () => {
    const { access_token } = await passwordGrant();
    const { payload, protectedHeader } = await jwtVerify(access_token, await jwks(), { issuer: server.issuer("acme"), audience: "web-app" });
    expect(protectedHeader).toMatchObject({ alg: "ES256", typ: "JWT", kid: expect.any(String) });
    const alice = await server.started.services.db.prisma.user.findFirstOrThrow({ where: { username: "alice", realm: { name: "acme" } } });
    expect(payload).toMatchObject({
      iss: server.issuer("acme"), sub: alice.id, aud: "web-app", typ: "Bearer", azp: "web-app", jti: expect.any(String),
      scope: "openid profile email", preferred_username: "alice", email: "alice@example.org", email_verified: true,
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
    // No row is stored for it.
    expect(await server.started.services.db.prisma.oidcPayload.count({ where: { id: storageId(access_token) } })).toBe(0);
  });

  it("work at userinfo and are active at introspection", async () => {
    const { access_token } = await passwordGrant();
    const info = await userinfo(access_token);
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ preferred_username: "alice" });
    expect(await introspect(access_token)).toMatchObject({ active: true, client_id: "web-app", scope: "openid profile email", token_type: "Bearer" });
  });

  it("introspection answers as Keycloak's: the token's claims plus active, username, client_id and token_type", async () => {
    const { access_token, refresh_token } = (await (await post(endpoint("token"), { grant_type: "password", username: "alice", password: "alice-password", scope: "openid" })).json()) as { access_token: string; refresh_token: string };
    const { payload } = await jwtVerify(access_token, await jwks(), { issuer: server.issuer("acme") });
    const { x509idp: _internal, ...claims } = payload as Record<string, unknown>;
    const answer = await introspect(access_token);
    expect(answer).toMatchObject({ ...claims, active: true, username: "alice", client_id: "web-app", token_type: "Bearer" });
    expect(answer).not.toHaveProperty("x509idp");
    // A refresh token (opaque) is no JWT: its answer has the user's name all the same.
    expect(await introspect(refresh_token)).toMatchObject({ active: true, username: "alice", client_id: "web-app" });
  });

  it("come from the authorization code flow and the refresh too, and userinfo answers them", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const { tokens } = await loginWithPassword(config, new Browser(server.dispatcher), { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    await jwtVerify(tokens.access_token, await jwks(), { issuer: server.issuer("acme") });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? "");
    const { payload } = await jwtVerify(refreshed.access_token, await jwks(), { issuer: server.issuer("acme") });
    expect(payload.preferred_username).toBe("alice");
    expect((await userinfo(refreshed.access_token)).status).toBe(200);
  });

  it("a client-credentials token is a JWT whose subject is the client", async () => {
    const res = await post(endpoint("token"), { grant_type: "client_credentials" });
    const { access_token } = (await res.json()) as { access_token: string };
    const { payload } = await jwtVerify(access_token, await jwks(), { issuer: server.issuer("acme") });
    expect(payload).toMatchObject({ sub: "web-app", azp: "web-app", typ: "Bearer" });
    expect(await introspect(access_token)).toMatchObject({ active: true, client_id: "web-app", username: "service-account-web-app" });
    // It is no user's token: userinfo refuses it.
    expect((await userinfo(access_token)).status).toBe(401);
  });

  it("revoking a token ends its grant's tokens issued until then, not those of the browser session's next login", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens } = await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    expect((await post(endpoint("revoke"), { token: tokens.access_token })).status).toBe(200);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    // Token times are in seconds: the next token is issued in a later second than the revocation.
    await new Promise((r) => setTimeout(r, 1100));
    const again = await authorizationRequest(config, REDIRECT);
    const page = await browser.navigate(again.url, REDIRECT);
    const next = await oidc.authorizationCodeGrant(config, new URL(page.location ?? ""), again.checks);
    expect(decodeJwt(next.access_token).x509idp).toEqual(decodeJwt(tokens.access_token).x509idp);
    expect((await userinfo(next.access_token)).status).toBe(200);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it("a revoked token is inactive at introspection and refused at userinfo, the grant's other tokens too", async () => {
    const first = await passwordGrant();
    const res = await post(endpoint("revoke"), { token: first.access_token, token_type_hint: "access_token" });
    expect(res.status).toBe(200);
    expect(await introspect(first.access_token)).toEqual({ active: false });
    expect((await userinfo(first.access_token)).status).toBe(401);
    // Revoking a refresh token ends every access token of its grant.
    const second = await passwordGrant();
    expect(await introspect(second.access_token)).toMatchObject({ active: true });
    expect((await post(endpoint("revoke"), { token: second.refresh_token, token_type_hint: "refresh_token" })).status).toBe(200);
    expect(await introspect(second.access_token)).toEqual({ active: false });
    expect((await userinfo(second.access_token)).status).toBe(401);
  });

  it("a token of a logged-out session is inactive and refused", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens } = await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    // A valid hint for the browser's session: logged out at once (no confirmation page).
    const done = await browser.navigate(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? "", post_logout_redirect_uri: LOGOUT_REDIRECT }).toString(), LOGOUT_REDIRECT);
    expect(done.location).toBe(LOGOUT_REDIRECT);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect((await userinfo(tokens.access_token)).status).toBe(401);
  });

  it("a forged, altered or foreign token is not accepted", async () => {
    const { access_token } = await passwordGrant();
    const [h, p, s] = access_token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url")}.${s}`;
    const noSignature = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${p}.AA`;
    const foreign = (await passwordGrant("web-app", "other")).access_token;
    for (const token of [altered, noSignature, foreign, `${access_token}x`]) {
      expect(await introspect(token)).toEqual({ active: false });
      expect((await userinfo(token)).status).toBe(401);
    }
    // The other realm's own token works there.
    expect((await userinfo(foreign, "other")).status).toBe(200);
  });
});

describe("access.token.format: opaque", () => {
  it("keeps opaque, stored tokens that introspect and revoke as before", async () => {
    const { access_token } = await passwordGrant("legacy-app");
    expect(access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await server.started.services.db.prisma.oidcPayload.count({ where: { model: "AccessToken", id: storageId(access_token) } })).toBe(1);
    expect(await introspect(access_token, "legacy-app")).toMatchObject({ active: true, client_id: "legacy-app" });
    expect((await userinfo(access_token)).status).toBe(200);
    await post(endpoint("revoke"), { token: access_token }, "legacy-app");
    expect(await introspect(access_token, "legacy-app")).toEqual({ active: false });
  });

  it("is carried by the admin API and export; an unknown format or attribute is a 400 naming it", async () => {
    const admin = await server.adminToken();
    const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
    const list = (await (await server.fetch("/admin/realms/acme/clients", { headers })).json()) as { clientId: string; attributes?: Record<string, string> }[];
    expect(list.find((c) => c.clientId === "legacy-app")?.attributes).toEqual({ "access.token.format": "opaque" });
    expect(list.find((c) => c.clientId === "web-app")?.attributes).toEqual({ "access.token.format": "jwt" });
    for (const attributes of [{ "access.token.format": "paseto" }, { "access.token.lifespan": "60" }]) {
      const res = await server.fetch("/admin/realms/acme/clients", { method: "POST", headers, body: JSON.stringify({ clientId: "bad-format", secret: "x", attributes }) });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain("attributes");
    }
  });
});
