// What discovery advertises is what x509-idp supports and documents (issue #11, item 8): pushed authorization
// requests (RFC 9126) at Keycloak's path, with the same client, redirect URI and PKCE checks as the front channel;
// DPoP is off (sender-constrained tokens are certificate-bound, RFC 8705), so it is not advertised and a DPoP proof
// does not change what is issued.
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, formOf } from "../helpers/browser.ts";
import { APP_SECRET, REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let par: string;

const CHALLENGE = { verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

beforeAll(async () => {
  server = await startTestServer();
  await seedAcme(server);
  par = `${server.issuer("acme")}/protocol/openid-connect/ext/par/request`;
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

/** A pushed request; `auth` null: a public client, which authenticates with its client_id alone. */
const push = (params: Record<string, string>, auth: string | null = basic("web-app", APP_SECRET)) =>
  server.fetch(par, { method: "POST", headers: { ...(auth !== null && { authorization: auth }) }, body: new URLSearchParams(params) });

describe("pushed authorization requests (RFC 9126)", () => {
  it("discovery advertises the endpoint at Keycloak's path", async () => {
    const doc = (await (await server.fetch("/realms/acme/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(doc.pushed_authorization_request_endpoint).toBe(par);
    expect(doc.require_pushed_authorization_requests).not.toBe(true);
  });

  it("a pushed request logs in like a front-channel one: request_uri, login, code, tokens with the verifier", async () => {
    const res = await push({ client_id: "web-app", response_type: "code", redirect_uri: REDIRECT, scope: "openid", state: "par-state", code_challenge: CHALLENGE.challenge, code_challenge_method: "S256" });
    expect(res.status).toBe(201);
    const { request_uri, expires_in } = (await res.json()) as { request_uri: string; expires_in: number };
    expect(request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(expires_in).toBe(60);
    const browser = new Browser(server.dispatcher);
    const page = await browser.navigate(`${server.issuer("acme")}/protocol/openid-connect/auth?${new URLSearchParams({ client_id: "web-app", request_uri })}`, REDIRECT);
    const form = formOf(page, "kc-form-login");
    const done = await browser.navigate(form.action, REDIRECT, { form: { ...form.fields, username: "alice", password: "alice-password" } });
    const callback = new URL(done.location ?? "");
    expect(callback.searchParams.get("state")).toBe("par-state");
    const code = callback.searchParams.get("code") ?? "";
    const token = await server.fetch("/realms/acme/protocol/openid-connect/token", {
      method: "POST", headers: { authorization: basic("web-app", APP_SECRET) },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: CHALLENGE.verifier }),
    });
    expect(token.status).toBe(200);
    // The request_uri is single-use.
    const again = await new Browser(server.dispatcher).request(`${server.issuer("acme")}/protocol/openid-connect/auth?${new URLSearchParams({ client_id: "web-app", request_uri })}`);
    expect(again.status).toBe(400);
    expect(again.location).toBeUndefined();
  });

  it("the same checks: client authentication, PKCE for public clients, a registered redirect URI, S256 only", async () => {
    const base = { response_type: "code", redirect_uri: REDIRECT, scope: "openid", code_challenge: CHALLENGE.challenge, code_challenge_method: "S256" };
    expect((await push({ client_id: "web-app", ...base }, basic("web-app", "wrong"))).status).toBe(401);
    const noPkce = await push({ client_id: "spa", response_type: "code", redirect_uri: REDIRECT, scope: "openid" }, null);
    expect(noPkce.status).toBe(400);
    expect(((await noPkce.json()) as { error_description: string }).error_description).toMatch(/PKCE/);
    const plain = await push({ client_id: "spa", ...base, code_challenge_method: "plain" }, null);
    expect(plain.status).toBe(400);
    const elsewhere = await push({ client_id: "web-app", ...base, redirect_uri: "https://evil.test/cb" });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ error: "invalid_request", error_description: expect.stringContaining("redirect_uri") });
    // A wrong verifier at the token endpoint fails as in the front channel.
    const ok = (await (await push({ client_id: "spa", ...base }, null)).json()) as { request_uri: string };
    const browser = new Browser(server.dispatcher);
    const page = await browser.navigate(`${server.issuer("acme")}/protocol/openid-connect/auth?${new URLSearchParams({ client_id: "spa", request_uri: ok.request_uri })}`, REDIRECT);
    const form = formOf(page, "kc-form-login");
    const done = await browser.navigate(form.action, REDIRECT, { form: { ...form.fields, username: "bob", password: "bob-password" } });
    const code = new URL(done.location ?? "").searchParams.get("code") ?? "";
    const wrong = await server.fetch("/realms/acme/protocol/openid-connect/token", { method: "POST", body: new URLSearchParams({ grant_type: "authorization_code", client_id: "spa", code, redirect_uri: REDIRECT, code_verifier: "x".repeat(43) }) });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_grant");
  });
});

/** A DPoP proof (RFC 9449 §4.2) for `htu`, signed with a fresh P-256 key. */
function dpopProof(htu: string): string {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${enc({ typ: "dpop+jwt", alg: "ES256", jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } })}.${enc({ jti: randomUUID(), htm: "POST", htu, iat: Math.floor(Date.now() / 1000) })}`;
  return `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

describe("DPoP is off", () => {
  it("discovery does not advertise it, and a proof does not bind the tokens: they are Bearer tokens", async () => {
    const doc = (await (await server.fetch("/realms/acme/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(doc).not.toHaveProperty("dpop_signing_alg_values_supported");
    const tokenUrl = `${server.issuer("acme")}/protocol/openid-connect/token`;
    const res = await server.fetch(tokenUrl, {
      method: "POST", headers: { authorization: basic("web-app", APP_SECRET), dpop: dpopProof(tokenUrl) },
      body: new URLSearchParams({ grant_type: "password", username: "alice", password: "alice-password", scope: "openid" }),
    });
    const body = (await res.json()) as { token_type: string; access_token: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.token_type).toBe("Bearer");
    const info = await server.fetch("/realms/acme/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(info.status).toBe(200);
  });
});
