// A relying party built on openid-client (a certified RP implementation), talking to the test server over HTTPS.
import * as oidc from "openid-client";
import { fetch } from "undici";
import { Browser, formOf, type Page } from "./browser.ts";
import type { TestServer } from "./server.ts";

export async function relyingParty(server: TestServer, realm: string, clientId: string, secret?: string): Promise<oidc.Configuration> {
  const customFetch = ((url: string, options: Parameters<typeof fetch>[1]) =>
    fetch(url, { ...options, dispatcher: server.dispatcher })) as unknown as oidc.CustomFetch;
  const auth = secret ? oidc.ClientSecretBasic(secret) : oidc.None();
  return oidc.discovery(new URL(server.issuer(realm)), clientId, undefined, auth, { [oidc.customFetch]: customFetch });
}

export interface LoginResult {
  tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  loginPage: Page;
}

/** Starts an authorization request (PKCE, state, nonce) and returns the URL plus the checks to verify the callback. */
export async function authorizationRequest(config: oidc.Configuration, redirectUri: string, scope = "openid", extra: Record<string, string> = {}) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: "S256", ...extra,
  });
  return { url: url.toString(), checks: { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce } };
}

/** The whole browser login: authorization request → login form → password → callback → code exchange. */
export async function loginWithPassword(
  config: oidc.Configuration,
  browser: Browser,
  o: { username: string; password: string; redirectUri: string; scope?: string },
): Promise<LoginResult> {
  const req = await authorizationRequest(config, o.redirectUri, o.scope ?? "openid");
  const loginPage = await browser.navigate(req.url, o.redirectUri);
  if (loginPage.status !== 200) throw new Error(`expected the login page, got ${loginPage.status}: ${loginPage.body.slice(0, 500)}`);
  const form = formOf(loginPage, "kc-form-login");
  const done = await browser.navigate(form.action, o.redirectUri, { form: { ...form.fields, username: o.username, password: o.password } });
  if (!done.location?.startsWith(o.redirectUri)) throw new Error(`login did not reach the client: ${done.status} ${done.body.slice(0, 500)}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(done.location), req.checks);
  return { tokens, loginPage };
}
