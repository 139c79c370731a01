// Redirect URI tricks over real HTTPS (issue #11, item 2): with a registered wildcard `https://wild.test/cb/*`, no
// variant of a dot segment, encoded slash or fragment gets a code, a logout redirect or a pushed request; the
// look-alikes (userinfo, port, suffix host) neither. Each is an error page without a Location header.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { Browser, formOf } from "../helpers/browser.ts";
import { APP_SECRET } from "../helpers/fixtures.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;

const WILD = "https://wild.test/cb/*";
const TRICKS = [
  "https://wild.test/cb/../../evil",
  "https://wild.test/cb/%2e%2e/%2e%2e/evil",
  "https://wild.test/cb/%2E%2E/%2E%2E/evil",
  "https://wild.test/cb/.%2e/.%2e/evil",
  "https://wild.test/cb/%252e%252e/%252e%252e/evil",
  "https://wild.test/cb/./x",
  "https://wild.test/cb/..%2f..%2fevil",
  "https://wild.test/cb/x%2F..%2F..%2Fevil",
  "https://wild.test/cb/..%5c..%5cevil",
  "https://wild.test/cb\\..\\..\\evil",
  "https://wild.test/cb/.%09./evil",
  "https://wild.test/cb/x#frag",
  "https://wild.test/cb/x%23frag",
  "https://wild.test@evil.test/cb/x",
  "https://evil@wild.test/cb/x",
  "https://wild.test:8443/cb/x",
  "https://wild.test.evil.test/cb/x",
  "http://wild.test/cb/x",
];

beforeAll(async () => {
  server = await startTestServer();
  const res = await server.admin("POST", "/admin/realms", {
    realm: "wild",
    clients: [{ clientId: "app", secret: APP_SECRET, redirectUris: [WILD], postLogoutRedirectUris: [WILD], directAccessGrantsEnabled: true }],
    users: [{ username: "alice", credentials: [{ type: "password", value: "alice-password" }] }],
  });
  expect(res.status, await res.text()).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

const expectRefused = (page: { status: number; location?: string | undefined; body: string }, uri: string) => {
  expect(page.status, uri).toBe(400);
  expect(page.location, uri).toBeUndefined();
  expect(page.body, uri).not.toContain("evil");
};

describe("authorization requests", () => {
  it("a normal URI under the wildcard starts the login", async () => {
    const config = await relyingParty(server, "wild", "app", APP_SECRET);
    const page = await new Browser(server.dispatcher).request((await authorizationRequest(config, "https://wild.test/cb/x")).url);
    expect(page.status).toBe(303);
    expect(page.location).toContain("/login-actions/");
  });

  it.each(TRICKS)("%s gets an error page, no redirect", async (uri) => {
    const config = await relyingParty(server, "wild", "app", APP_SECRET);
    expectRefused(await new Browser(server.dispatcher).request((await authorizationRequest(config, uri)).url), uri);
  });

  it("pushed authorization requests (PAR) apply the same rule", async () => {
    for (const uri of TRICKS) {
      const res = await server.fetch(`${server.issuer("wild")}/protocol/openid-connect/ext/par/request`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`app:${APP_SECRET}`).toString("base64")}` },
        body: new URLSearchParams({ client_id: "app", response_type: "code", redirect_uri: uri, scope: "openid", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" }),
      });
      const text = await res.text();
      expect(res.status, `${uri} ${text}`).toBe(400);
      expect(JSON.parse(text), uri).toEqual({ error: "invalid_request", error_description: "redirect_uri did not match any of the client's registered redirect_uris" });
    }
  });
});

describe("logout", () => {
  it.each(TRICKS)("post_logout_redirect_uri %s is refused", async (uri) => {
    const config = await relyingParty(server, "wild", "app", APP_SECRET);
    const tokens = await oidc.genericGrantRequest(config, "password", { username: "alice", password: "alice-password", scope: "openid" });
    const browser = new Browser(server.dispatcher);
    const url = new URL(`${server.issuer("wild")}/protocol/openid-connect/logout`);
    url.search = new URLSearchParams({ id_token_hint: tokens.id_token ?? "", post_logout_redirect_uri: uri }).toString();
    const page = await browser.request(url.toString());
    expectRefused(page, uri);
  });

  it("a registered post_logout_redirect_uri under the wildcard is where logout ends", async () => {
    const config = await relyingParty(server, "wild", "app", APP_SECRET);
    const tokens = await oidc.genericGrantRequest(config, "password", { username: "alice", password: "alice-password", scope: "openid" });
    const browser = new Browser(server.dispatcher);
    const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? "", post_logout_redirect_uri: "https://wild.test/cb/bye" });
    const page = await browser.request(url.toString());
    expect(page.status).toBe(200);
    const form = formOf(page); // the confirmation, or (no browser session) oidc-provider's self-submitting form
    const done = await browser.request(form.action, { form: { ...form.fields, logout: "yes" } });
    expect(done.location).toBe("https://wild.test/cb/bye");
  });
});
