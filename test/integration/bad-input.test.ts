// A client's mistake gets the right 4xx with an OAuth-style JSON error (API callers) or a rendered page (browsers):
// never a 500, never a stack trace. Also the health endpoints.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, errorBanner, formOf } from "../helpers/browser.ts";
import { ROOT } from "../helpers/cli.ts";
import { APP_SECRET, REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
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

const STACK = /\bat \S+ \(?[^)]*:\d+:\d+\)?|node_modules|\.ts:\d+/;

async function expectJsonError(res: Awaited<ReturnType<TestServer["fetch"]>>, status: number, error?: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  expect(text).not.toMatch(STACK);
  const body = JSON.parse(text) as { error: string; error_description?: string };
  expect(typeof body.error).toBe("string");
  if (error) expect(body.error).toBe(error);
  return body;
}

function expectPage(page: { status: number; body: string; headers: { get(n: string): string | null } }, status: number) {
  expect(page.status).toBe(status);
  expect(page.headers.get("content-type")).toMatch(/text\/html/);
  expect(page.body).toContain("<!DOCTYPE html>");
  expect(page.body).not.toMatch(STACK);
  expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
}

describe("unknown things", () => {
  it("an unknown realm is a 404: JSON for API callers, a page for browsers", async () => {
    const body = await expectJsonError(await server.fetch("/realms/nowhere/protocol/openid-connect/token", { method: "POST", body: new URLSearchParams({ grant_type: "password" }) }), 404, "not_found");
    expect(body.error_description).toBe("Realm does not exist");
    await expectJsonError(await server.fetch("/realms/nowhere/.well-known/openid-configuration"), 404);
    const page = await new Browser(server.dispatcher).request(`${server.base}/realms/nowhere/protocol/openid-connect/auth?client_id=x`);
    expectPage(page, 404);
    expect(errorBanner(page)).toBe("Realm does not exist.");
  });

  it("odd realm names and paths are 404s", async () => {
    for (const p of ["/realms/%E0%A4%A/.well-known/openid-configuration", "/realms/..%2Fadmin/x", "/realms/", "/nope", "/admin", "/admin/realms/master/nothing-here"]) {
      const res = await server.fetch(p, { headers: { accept: "application/json", authorization: `Bearer ${await server.adminToken()}` } });
      await expectJsonError(res, 404);
    }
  });

  it("an unknown client or redirect URI gets an error page, not a redirect", async () => {
    const browser = new Browser(server.dispatcher);
    const unknown = await browser.request(`${server.issuer("acme")}/protocol/openid-connect/auth?client_id=ghost&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=openid`);
    expectPage(unknown, 400);
    const wrongRedirect = await browser.request(`${server.issuer("acme")}/protocol/openid-connect/auth?client_id=web-app&response_type=code&redirect_uri=${encodeURIComponent("https://evil.test/cb")}&scope=openid`);
    expectPage(wrongRedirect, 400);
    expect(wrongRedirect.body).toContain("redirect_uri");
  });
});

describe("the token endpoint", () => {
  const url = () => `${server.issuer("acme")}/protocol/openid-connect/token`;

  it("refuses a body over the limit with 413", async () => {
    const res = await server.fetch(url(), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `grant_type=password&x=${"a".repeat(100_000)}` });
    await expectJsonError(res, 413, "request_too_large");
  });

  it("answers protocol mistakes with OAuth errors", async () => {
    const post = (form: Record<string, string>) => server.fetch(url(), { method: "POST", body: new URLSearchParams(form) });
    await expectJsonError(await post({ grant_type: "magic", client_id: "web-app", client_secret: APP_SECRET }), 400, "unsupported_grant_type");
    await expectJsonError(await post({ client_id: "web-app", client_secret: APP_SECRET }), 400, "invalid_request");
    await expectJsonError(await post({ grant_type: "authorization_code", code: "forged", redirect_uri: REDIRECT, client_id: "web-app", client_secret: APP_SECRET }), 400, "invalid_grant");
    await expectJsonError(await post({ grant_type: "refresh_token", refresh_token: "forged", client_id: "web-app", client_secret: APP_SECRET }), 400, "invalid_grant");
    await expectJsonError(await post({ grant_type: "password", username: "alice", password: "x" }), 400, "invalid_request");
    await expectJsonError(await post({ grant_type: "password", client_id: "ghost", client_secret: "x", username: "alice", password: "x" }), 401, "invalid_client");
    const dup = await server.fetch(url(), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `grant_type=password&grant_type=password&client_id=web-app&client_secret=${APP_SECRET}` });
    await expectJsonError(dup, 400, "invalid_request");
    const json = await server.fetch(url(), { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" });
    expect(json.status).toBeGreaterThanOrEqual(400);
    expect(json.status).toBeLessThan(500);
    const huge = await post({ grant_type: "password", client_id: "web-app", client_secret: APP_SECRET, username: "alice", password: "p".repeat(5000) });
    await expectJsonError(huge, 400, "invalid_grant");
  });

  it("userinfo without or with a forged token is 401", async () => {
    await expectJsonError(await server.fetch(`${server.issuer("acme")}/protocol/openid-connect/userinfo`), 401, "invalid_token");
    await expectJsonError(await server.fetch(`${server.issuer("acme")}/protocol/openid-connect/userinfo`, { headers: { authorization: "Bearer forged" } }), 401, "invalid_token");
  });
});

describe("the login pages", () => {
  async function loginForm() {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const browser = new Browser(server.dispatcher);
    const page = await browser.navigate((await authorizationRequest(config, REDIRECT)).url, REDIRECT);
    return { browser, form: formOf(page, "kc-form-login") };
  }

  it("a post without the interaction cookie (expired, or from another site) gets a 'timed out' page", async () => {
    const { form } = await loginForm();
    const stranger = new Browser(server.dispatcher);
    const page = await stranger.request(form.action, { form: { ...form.fields, username: "alice", password: "alice-password" } });
    expectPage(page, 400);
    expect(errorBanner(page)).toBe("Your login attempt timed out. Login will start from the beginning.");
    const unknown = await stranger.request(`${server.issuer("acme")}/login-actions/not-an-interaction`);
    expectPage(unknown, 400);
  });

  it("a forged CSRF token is refused", async () => {
    const { browser, form } = await loginForm();
    const page = await browser.request(form.action, { form: { ...form.fields, csrf: "forged", username: "alice", password: "alice-password" } });
    expectPage(page, 400);
    expect(errorBanner(page)).toContain("This form has expired or was sent from another site");
  });

  it("missing fields, repeated fields, a wrong content type and an oversized form are 4xx pages", async () => {
    const { browser, form } = await loginForm();
    const noUser = await browser.request(form.action, { form: { ...form.fields, username: " ", password: "x" } });
    expectPage(noUser, 400);
    expect(errorBanner(noUser)).toBe("Please specify username.");
    const noPassword = await browser.request(form.action, { form: { ...form.fields, username: "alice", password: "" } });
    expect(errorBanner(noPassword)).toBe("Please specify password.");
    const fields = new URLSearchParams({ ...form.fields, username: "alice", password: "alice-password" });
    fields.append("username", "mallory");
    const repeated = await browser.request(form.action, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: fields.toString() });
    expectPage(repeated, 400);
    const wrongType = await browser.request(form.action, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice" }) });
    expectPage(wrongType, 415);
    const big = await browser.request(form.action, { form: { ...form.fields, username: "a".repeat(70_000), password: "x" } });
    expectPage(big, 413);
  });

  it("the login page works without JavaScript and is accessible", async () => {
    const config = await relyingParty(server, "acme", "web-app", APP_SECRET);
    const page = await new Browser(server.dispatcher).navigate((await authorizationRequest(config, REDIRECT)).url, REDIRECT);
    expect(page.body).not.toContain("<script");
    expect(page.body).toMatch(/<label for="username">/);
    expect(page.body).toMatch(/<label for="password">/);
    expect(page.body).toContain('autocomplete="current-password"');
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("the admin API", () => {
  it("refuses malformed JSON, the wrong content type, an oversized body and unknown methods", async () => {
    const auth = { authorization: `Bearer ${await server.adminToken()}` };
    await expectJsonError(await server.fetch("/admin/realms", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{ nope" }), 400, "invalid_request");
    await expectJsonError(await server.fetch("/admin/realms", { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "realm=x" }), 415);
    await expectJsonError(await server.fetch("/admin/realms", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ realm: "x", pad: "a".repeat(17 * 1024 * 1024) }) }), 413);
    await expectJsonError(await server.fetch("/admin/realms", { method: "PATCH", headers: auth }), 405);
    await expectJsonError(await server.fetch("/admin/realms", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "[1,2]" }), 400, "invalid_request");
    await expectJsonError(await server.fetch("/admin/realms/acme/users?first=-3", { headers: auth }), 400);
    await expectJsonError(await server.fetch("/admin/realms/acme/users/not-a-user", { headers: auth }), 404, "not_found");
    await expectJsonError(await server.fetch("/admin/realms/acme/clients/not-a-client", { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: "{}" }), 404);
  });

  it("a broken realm in POST /admin/realms creates nothing", async () => {
    const res = await server.admin("POST", "/admin/realms", { realm: "half", clients: [{ clientId: "ok" }], users: [{ username: "u", email: "bad" }] });
    const body = await expectJsonError(res, 400, "invalid_request");
    expect(body.error_description).toContain("users[0].email");
    expect((await server.admin("GET", "/admin/realms/half")).status).toBe(404);
  });
});

describe("health", () => {
  it("reports live and ready", async () => {
    const live = await server.fetch("/health/live");
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "UP", checks: [] });
    const ready = await server.fetch("/health/ready");
    expect(ready.status).toBe(200);
    const migrations = fs.readdirSync(path.join(ROOT, "prisma", server.db.kind === "postgres" ? "postgresql" : "sqlite", "migrations")).filter((f) => /^\d{14}_/.test(f)).length;
    expect(await ready.json()).toMatchObject({ status: "UP", checks: [{ name: "database", status: "UP", data: { migrations } }] });
  });
});
