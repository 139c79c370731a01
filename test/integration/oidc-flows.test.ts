// Discovery, JWKS, the authorization code flow with PKCE driven by openid-client, refresh, userinfo, RP-initiated
// logout, client credentials and the password direct grant, at Keycloak's URLs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { decodeJwt, decodeProtectedHeader } from "../helpers/jwt.ts";
import { Browser, errorBanner, formOf } from "../helpers/browser.ts";
import { APP_SECRET, LOGOUT_REDIRECT, REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { authorizationRequest, loginWithPassword, relyingParty } from "../helpers/rp.ts";
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

const tokenUrl = () => `${server.issuer("acme")}/protocol/openid-connect/token`;
const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  server.fetch(url, { method: "POST", body: new URLSearchParams(form), headers });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

describe("discovery and keys", () => {
  it("publishes the realm's metadata at Keycloak's paths", async () => {
    const res = await server.fetch("/realms/acme/.well-known/openid-configuration");
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, unknown>;
    const issuer = server.issuer("acme");
    expect(meta).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
      token_endpoint: `${issuer}/protocol/openid-connect/token`,
      userinfo_endpoint: `${issuer}/protocol/openid-connect/userinfo`,
      jwks_uri: `${issuer}/protocol/openid-connect/certs`,
      end_session_endpoint: `${issuer}/protocol/openid-connect/logout`,
      introspection_endpoint: `${issuer}/protocol/openid-connect/token/introspect`,
      revocation_endpoint: `${issuer}/protocol/openid-connect/revoke`,
      response_types_supported: ["code", "none"],
      code_challenge_methods_supported: ["S256"],
    });
    expect(meta.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token", "password", "client_credentials"]));
    expect(meta.grant_types_supported).not.toContain("implicit");
    expect(meta.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_basic", "client_secret_post", "none"]));
    expect(meta.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(["ES256", "RS256"]));
  });

  it("serves one ES256 and one RS256 public key, without private members", async () => {
    const res = await server.fetch("/realms/acme/protocol/openid-connect/certs");
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys.map((k) => k.alg).sort()).toEqual(["ES256", "RS256"]);
    for (const k of keys) {
      expect(k.use).toBe("sig");
      expect(k.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(k).not.toHaveProperty(secret);
    }
  });

  it("keeps realms apart: each realm has its own issuer and keys", async () => {
    const demo = (await (await server.fetch("/realms/demo/protocol/openid-connect/certs")).json()) as { keys: { kid: string }[] };
    const acme = (await (await server.fetch("/realms/acme/protocol/openid-connect/certs")).json()) as { keys: { kid: string }[] };
    expect(demo.keys.map((k) => k.kid)).not.toEqual(expect.arrayContaining(acme.keys.map((k) => k.kid)));
  });
});

describe("authorization code flow with PKCE (openid-client as the relying party)", () => {
  it("logs alice in by password and issues ID, access and refresh tokens", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens, loginPage } = await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    expect(loginPage.body).toContain("ACME Corp");
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: server.issuer("acme"),
      aud: "web-app",
      preferred_username: "alice",
      email: "alice@example.org",
      email_verified: true,
      name: "Alice Liddell",
      amr: ["pwd"],
    });
    expect(claims?.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens.refresh_token).toBeTruthy();
    expect(decodeProtectedHeader(tokens.id_token ?? "").alg).toBe("ES256");

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims?.sub ?? "");
    expect(info).toMatchObject({ sub: claims?.sub, preferred_username: "alice", email: "alice@example.org", given_name: "Alice", family_name: "Liddell" });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? "");
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(claims?.sub);
    // The rotated refresh token cannot be used again.
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? "")).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("accepts the e-mail address as login name, case-insensitively", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const { tokens } = await loginWithPassword(config, new Browser(server.dispatcher), { username: "ALICE@example.ORG", password: "alice-password", redirectUri: REDIRECT });
    expect(tokens.claims()?.preferred_username).toBe("alice");
  });

  it("a public client must use PKCE and gets tokens without a secret", async () => {
    const config = await relyingParty(server, "acme", "spa");
    const { tokens } = await loginWithPassword(config, new Browser(server.dispatcher), { username: "bob", password: "bob-password", redirectUri: REDIRECT });
    expect(tokens.claims()?.preferred_username).toBe("bob");
    const noPkce = new URL(`${server.issuer("acme")}/protocol/openid-connect/auth`);
    noPkce.search = new URLSearchParams({ client_id: "spa", response_type: "code", redirect_uri: REDIRECT, scope: "openid", state: "s" }).toString();
    const res = await new Browser(server.dispatcher).request(noPkce.toString());
    expect(res.status).toBe(303);
    expect(res.location).toContain("error=invalid_request");
  });

  it("grants the client's default scopes (profile, email) when only openid is requested, as Keycloak does", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const { tokens } = await loginWithPassword(config, new Browser(server.dispatcher), { username: "alice", password: "alice-password", redirectUri: REDIRECT, scope: "openid" });
    expect(tokens.scope?.split(" ").sort()).toEqual(["email", "openid", "profile"]);
  });

  it("matches a Keycloak wildcard redirect URI but never across origins", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const ok = await authorizationRequest(config, "https://wild.example.test/app/deep/cb");
    const page = await new Browser(server.dispatcher).request(ok.url);
    expect(page.status).toBe(303);
    expect(page.location).toContain("/login-actions/");
    const evil = await authorizationRequest(config, "https://wild.example.test.evil.test/app/x");
    const bad = await new Browser(server.dispatcher).request(evil.url);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/redirect_uri/);
  });

  it("shows the same error for a wrong password and an unknown user, and keeps the username", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    for (const [username, password] of [["alice", "wrong"], ["nobody", "whatever"]] as const) {
      const browser = new Browser(server.dispatcher);
      const req = await authorizationRequest(config, REDIRECT);
      const page = await browser.navigate(req.url, REDIRECT);
      const form = formOf(page, "kc-form-login");
      const again = await browser.request(form.action, { form: { ...form.fields, username, password } });
      expect(again.status).toBe(401);
      expect(errorBanner(again)).toBe("Invalid username or password.");
      expect(formOf(again, "kc-form-login").fields.username).toBe(username);
    }
  });

  it("tells a disabled user with the right password that the account is disabled", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const req = await authorizationRequest(config, REDIRECT);
    const form = formOf(await browser.navigate(req.url, REDIRECT), "kc-form-login");
    const page = await browser.request(form.action, { form: { ...form.fields, username: "carol", password: "carol-password" } });
    expect(errorBanner(page)).toBe("Account is disabled, contact your administrator.");
  });

  it("renders the login page in the browser's language", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    browser.acceptLanguage = "de-DE,de;q=0.9,en;q=0.5";
    const page = await browser.navigate((await authorizationRequest(config, REDIRECT)).url, REDIRECT);
    expect(page.body).toContain('<html lang="de">');
    expect(page.body).toContain("Benutzername oder E-Mail");
  });

  it("asks for consent when the client requires it, and denying returns access_denied", async () => {
    const config = await relyingParty(server, "acme", "consent-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const req = await authorizationRequest(config, REDIRECT, "openid email");
    const form = formOf(await browser.navigate(req.url, REDIRECT), "kc-form-login");
    const consent = await browser.navigate(form.action, REDIRECT, { form: { ...form.fields, username: "bob", password: "bob-password" } });
    expect(consent.body).toContain("Grant access to consent-app");
    expect(consent.body).toContain("Email address");
    const decision = formOf(consent);
    const denied = await browser.navigate(decision.action, REDIRECT, { form: { ...decision.fields, cancel: "no" } });
    expect(denied.location).toContain("error=access_denied");

    const again = await authorizationRequest(config, REDIRECT, "openid email");
    const consent2 = await browser.navigate(again.url, REDIRECT);
    const accepted = await browser.navigate(formOf(consent2).action, REDIRECT, { form: { ...formOf(consent2).fields, accept: "yes" } });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(accepted.location ?? ""), again.checks);
    expect(tokens.claims()?.email).toBe("bob@example.org");
  });

  it("Cancel is a POST with the form's CSRF token; a GET or a forged POST does not abort the login", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const req = await authorizationRequest(config, REDIRECT);
    const page = await browser.navigate(req.url, REDIRECT);
    const cancel = formOf(page, "kc-cancel");
    expect(cancel.action).toMatch(/\/login-actions\/[^/]+\/abort$/);
    // A link on another site (a GET) or a POST without the token leaves the login as it is.
    expect([404, 405]).toContain((await browser.request(cancel.action)).status);
    const forged = await browser.request(cancel.action, { form: { csrf: "forged" } });
    expect(forged.status).toBe(400);
    const still = await browser.request(page.url);
    expect(still.status).toBe(200);
    expect(formOf(still, "kc-form-login").action).toContain("/login-actions/");
    // The real Cancel returns to the client with access_denied.
    const done = await browser.navigate(cancel.action, REDIRECT, { form: cancel.fields });
    const callback = new URL(done.location ?? "");
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get("error")).toBe("access_denied");
  });

  it("reuses the browser session: a second authorization needs no password", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const again = await authorizationRequest(config, REDIRECT);
    const page = await browser.navigate(again.url, REDIRECT);
    expect(page.location?.startsWith(REDIRECT)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.location ?? ""), again.checks);
    expect(tokens.claims()?.preferred_username).toBe("alice");
  });

  it("logs out (RP-initiated) with a valid id_token_hint without asking, as Keycloak 18+: the session and its tokens end", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens } = await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const logoutUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? "", post_logout_redirect_uri: LOGOUT_REDIRECT, state: "bye" });
    const done = await browser.request(logoutUrl.toString());
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${LOGOUT_REDIRECT}?state=bye`);
    const again = await authorizationRequest(config, REDIRECT);
    const page = await browser.navigate(again.url, REDIRECT);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="kc-form-login"');
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? "")).rejects.toMatchObject({ error: "invalid_grant" });
    const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspection.active).toBe(false);
  });

  it("ID tokens name their session (sid), as Keycloak's do, and the access token carries the same sid", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const { tokens } = await loginWithPassword(config, new Browser(server.dispatcher), { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const sid = tokens.claims()?.sid;
    expect(typeof sid).toBe("string");
    expect(decodeJwt(tokens.access_token).sid).toBe(sid);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? "");
    expect(refreshed.claims()?.sid).toBe(sid);
  });

  it("a hint from an earlier session of the same user still asks (its sid is not this session's)", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens: first } = await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const out = await browser.request(oidc.buildEndSessionUrl(config, { id_token_hint: first.id_token ?? "", post_logout_redirect_uri: LOGOUT_REDIRECT }).toString());
    expect(out.status).toBe(303);
    await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const asked = await browser.navigate(oidc.buildEndSessionUrl(config, { id_token_hint: first.id_token ?? "", post_logout_redirect_uri: LOGOUT_REDIRECT }).toString(), LOGOUT_REDIRECT);
    expect(asked.body).toContain("Do you want to log out?");
  });

  it("logout without a hint (client_id and a registered URI), or with another user's hint, still asks; the answer logs out", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const bob = new Browser(server.dispatcher);
    const { tokens: bobs } = await loginWithPassword(config, bob, { username: "bob", password: "bob-password", redirectUri: REDIRECT });
    const browser = new Browser(server.dispatcher);
    await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const noHint = new URL(`${server.issuer("acme")}/protocol/openid-connect/logout`);
    noHint.search = new URLSearchParams({ client_id: "web-app", post_logout_redirect_uri: LOGOUT_REDIRECT, state: "s1" }).toString();
    const asked = await browser.navigate(noHint.toString(), LOGOUT_REDIRECT);
    expect(asked.body).toContain("Do you want to log out?");
    const foreign = oidc.buildEndSessionUrl(config, { id_token_hint: bobs.id_token ?? "", post_logout_redirect_uri: LOGOUT_REDIRECT, state: "s2" });
    const confirm = await browser.navigate(foreign.toString(), LOGOUT_REDIRECT);
    expect(confirm.body).toContain("Do you want to log out?");
    const form = formOf(confirm, "op.logoutForm");
    const done = await browser.navigate(form.action, LOGOUT_REDIRECT, { form: { ...form.fields, logout: "yes" } });
    expect(done.location).toBe(`${LOGOUT_REDIRECT}?state=s2`);
  });

  it("an expired id_token_hint still logs out without asking (Keycloak does not check its expiry)", async () => {
    const created = await server.admin("POST", "/admin/realms", {
      realm: "short-tokens", accessTokenLifespan: 1,
      clients: [{ clientId: "web-app", secret: APP_SECRET, redirectUris: [REDIRECT], postLogoutRedirectUris: [LOGOUT_REDIRECT] }],
      users: [{ username: "carol", credentials: [{ type: "password", value: "carol-password" }] }],
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const config = await relyingParty(server, "short-tokens", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens } = await loginWithPassword(config, browser, { username: "carol", password: "carol-password", redirectUri: REDIRECT });
    await new Promise((r) => setTimeout(r, 2100));
    const done = await browser.request(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? "", post_logout_redirect_uri: LOGOUT_REDIRECT }).toString());
    expect(done.status).toBe(303);
    expect(done.location).toBe(LOGOUT_REDIRECT);
  });

  it("logout with a hint whose signature does not verify is a 400 page, nothing ends", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const { tokens } = await loginWithPassword(config, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const [h, p, sig] = (tokens.id_token ?? "").split(".");
    const forged = `${h}.${p}.${(sig ?? "").startsWith("A") ? `B${sig?.slice(1)}` : `A${sig?.slice(1)}`}`;
    const res = await browser.request(oidc.buildEndSessionUrl(config, { id_token_hint: forged, post_logout_redirect_uri: LOGOUT_REDIRECT }).toString());
    expect(res.status).toBe(400);
    const again = await authorizationRequest(config, REDIRECT);
    expect((await browser.navigate(again.url, REDIRECT)).location?.startsWith(REDIRECT)).toBe(true);
  });
});

describe("password direct grant (grant_type=password)", () => {
  it("accepts client_secret_post, as scripts written for Keycloak send it", async () => {
    const res = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: "alice", password: "alice-password", scope: "openid" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 300 });
    expect(body.refresh_token).toBeTruthy();
    const idt = decodeJwt(body.id_token ?? "");
    expect(idt).toMatchObject({ preferred_username: "alice", email: "alice@example.org", amr: ["pwd"], aud: "web-app" });
    expect(typeof idt.auth_time).toBe("number");
  });

  it("accepts client_secret_basic for the same client", async () => {
    const res = await post(tokenUrl(), { grant_type: "password", username: "alice", password: "alice-password", scope: "openid" }, { authorization: basic("web-app", APP_SECRET) });
    expect(res.status).toBe(200);
  });

  it("returns an ID token only when the scope includes openid", async () => {
    const res = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: "alice", password: "alice-password" });
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(200);
    expect(body.id_token).toBeUndefined();
    expect(body.access_token).toBeTruthy();
  });

  it("answers 400 invalid_grant \"Invalid user credentials\" for a wrong password and for an unknown user", async () => {
    for (const [username, password] of [["alice", "nope"], ["ghost", "nope"]]) {
      const res = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: username ?? "", password: password ?? "" });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_grant", error_description: "Invalid user credentials" });
    }
  });

  it("answers \"Account disabled\" for a disabled user with the right password", async () => {
    const res = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: "carol", password: "carol-password" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_grant", error_description: "Account disabled" });
  });

  it("refuses clients without direct access grants, and a wrong client secret", async () => {
    const denied = await post(tokenUrl(), { grant_type: "password", client_id: "no-direct", client_secret: APP_SECRET, username: "alice", password: "alice-password" });
    expect(denied.status).toBe(400);
    expect(((await denied.json()) as { error: string }).error).toBe("unauthorized_client");
    const wrong = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: "wrong", username: "alice", password: "alice-password" });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_client");
  });

  it("names a missing parameter", async () => {
    const res = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, password: "x" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_request", error_description: "Missing parameter: username" });
  });

  it("works for the public admin-cli client of the master realm", async () => {
    expect(await server.adminToken()).toMatch(/.{20,}/);
  });
});

describe("client credentials and token management", () => {
  it("issues a token to a service-account client and introspects it", async () => {
    const res = await post(tokenUrl(), { grant_type: "client_credentials" }, { authorization: basic("web-app", APP_SECRET) });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    const intro = await post(`${server.issuer("acme")}/protocol/openid-connect/token/introspect`, { token: access_token }, { authorization: basic("web-app", APP_SECRET) });
    expect(await intro.json()).toMatchObject({ active: true, client_id: "web-app" });
  });

  it("revokes a refresh token", async () => {
    const login = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: "bob", password: "bob-password" });
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const revoke = await post(`${server.issuer("acme")}/protocol/openid-connect/revoke`, { token: refresh_token, token_type_hint: "refresh_token" }, { authorization: basic("web-app", APP_SECRET) });
    expect(revoke.status).toBe(200);
    const again = await post(tokenUrl(), { grant_type: "refresh_token", refresh_token }, { authorization: basic("web-app", APP_SECRET) });
    expect(again.status).toBe(400);
  });

  it("does not accept a token of one realm at another realm's userinfo", async () => {
    const login = await post(tokenUrl(), { grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: "alice", password: "alice-password", scope: "openid" });
    const { access_token } = (await login.json()) as { access_token: string };
    const own = await server.fetch("/realms/acme/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${access_token}` } });
    expect(own.status).toBe(200);
    const other = await server.fetch("/realms/demo/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${access_token}` } });
    expect(other.status).toBe(401);
  });
});
