// A certificate listener of its own (issue #14, item 3): with IDP_HTTPS_CLIENT_CERT=none the main port never asks for
// a client certificate (browsers do not prompt on the login page), IDP_MTLS_PORT asks on every connection, discovery
// advertises the RFC 8705 §5 aliases there, and the browser's certificate login moves to that listener and back.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import * as oidc from "openid-client";
import { fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, formOf } from "../helpers/browser.ts";
import { ext, type BuiltCert } from "../helpers/certs.ts";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { freePort, startTestServer, type TestServer } from "../helpers/server.ts";

const REALM = "split";
const REDIRECT = "https://app.example/callback";
let server: TestServer;
let pki: Pki;
let svc: BuiltCert;
let mtlsPort: number;
let mtls: string;

const thumbprint = (c: BuiltCert) => createHash("sha256").update(c.der).digest("base64url");

/** Whether the server sends a CertificateRequest in the handshake on `port` (openssl s_client's message trace). */
async function asksForCertificate(port: number): Promise<boolean> {
  const { stdout } = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost", "-msg"], { input: "" });
  if (!/ServerHello/.test(stdout)) throw new Error(`no TLS handshake with port ${port}:\n${stdout}`);
  return /CertificateRequest/.test(stdout);
}

function run(command: string, args: string[], o: { input: string }): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 10_000 }, (err, stdout) => (err && !stdout ? reject(err) : resolve({ stdout })));
    child.stdin?.end(o.input);
  });
}

/** The realm both servers serve: browser certificate login (SAN e-mail), a web app, a certificate client. */
async function createRealm(on: TestServer) {
  const res = await on.admin("POST", "/admin/realms", {
    realm: REALM,
    clients: [
      { clientId: "svc", clientAuthenticatorType: "client-x509", serviceAccountsEnabled: true, standardFlowEnabled: false, attributes: { "x509.subjectdn": "(.*?)CN=svc,(.*?)" } },
      { clientId: "webapp", secret: "webapp-secret", redirectUris: [REDIRECT] },
    ],
    users: [{ username: "test-user", email: "test-user@localhost" }],
    x509: {
      browser: { enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's Alternative Name E-mail", "x509-cert-auth.mapper-selection": "Username or Email" } },
      trustAnchors: [pki.root.pem],
    },
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

beforeAll(async () => {
  pki = buildPki();
  svc = pki.issue({ cn: "svc", serial: 6001, extensions: [ext.keyUsage(["digitalSignature"], true), ext.extKeyUsage(["clientAuth"]), ext.san([{ email: "test-user@localhost" }])] });
  mtlsPort = await freePort();
  server = await startTestServer({ env: { IDP_HTTPS_CLIENT_CERT: "none", IDP_MTLS_PORT: String(mtlsPort) } });
  mtls = `https://localhost:${mtlsPort}`;
  await createRealm(server);
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

const clientCredentials = (base: string) =>
  server.withCertificate(svc.pem + pki.intermediate.pem, keyPem(svc.key)).fetch(`${base}/realms/${REALM}/protocol/openid-connect/token`, {
    method: "POST", body: new URLSearchParams({ grant_type: "client_credentials", client_id: "svc" }),
  });

describe("two listeners", () => {
  it("the main port does not ask for a client certificate, the certificate listener does", async () => {
    expect(server.started.server.mtlsPort).toBe(mtlsPort);
    expect(await asksForCertificate(server.port)).toBe(false);
    expect(await asksForCertificate(mtlsPort)).toBe(true);
  });

  it("discovery (on either) advertises mtls_endpoint_aliases on the certificate listener", async () => {
    const meta = (await (await server.fetch(`/realms/${REALM}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const base = `${mtls}/realms/${REALM}/protocol/openid-connect`;
    expect(meta.mtls_endpoint_aliases).toEqual({
      token_endpoint: `${base}/token`, introspection_endpoint: `${base}/token/introspect`, revocation_endpoint: `${base}/revoke`,
      userinfo_endpoint: `${base}/userinfo`, pushed_authorization_request_endpoint: `${base}/ext/par/request`,
    });
    expect(meta.token_endpoint).toBe(`${server.base}/realms/${REALM}/protocol/openid-connect/token`);
  });

  it("a certificate client gets its bound token at the alias; at the main port its certificate is never asked for", async () => {
    const alias = await clientCredentials(mtls);
    const body = (await alias.json()) as { access_token: string };
    expect(alias.status, JSON.stringify(body)).toBe(200);
    const claims = JSON.parse(Buffer.from(body.access_token.split(".")[1] as string, "base64url").toString()) as { cnf?: unknown };
    expect(claims.cnf).toEqual({ "x5t#S256": thumbprint(svc) });
    const main = await clientCredentials(server.base);
    expect(main.status).toBe(401);
    expect(await main.json()).toEqual({ error: "invalid_client", error_description: "Client certificate missing" });
  });

  it("openid-client, discovering at the main URL with use_mtls_endpoint_aliases, sends its token request to the alias", async () => {
    const mine = server.withCertificate(svc.pem + pki.intermediate.pem, keyPem(svc.key));
    const seen: string[] = [];
    const viaCert = ((url: string, options: Parameters<typeof fetch>[1]) => {
      seen.push(url);
      return fetch(url, { ...options, dispatcher: mine.dispatcher });
    }) as unknown as oidc.CustomFetch;
    const config = await oidc.discovery(new URL(server.issuer(REALM)), "svc", { use_mtls_endpoint_aliases: true }, oidc.TlsClientAuth(), { [oidc.customFetch]: viaCert });
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.access_token).toBeTruthy();
    expect(seen.at(-1)).toBe(`${mtls}/realms/${REALM}/protocol/openid-connect/token`);
  });

  it("the browser: the login moves to the certificate listener, the confirmation there, and the login ends at the main URL", async () => {
    const rp = await relyingParty(server, REALM, "webapp", "webapp-secret");
    const browser = new Browser(server.withCertificate(svc.pem + pki.intermediate.pem, keyPem(svc.key)).dispatcher);
    const req = await authorizationRequest(rp, REDIRECT);
    const first = await browser.request(req.url);
    expect(first.location).toMatch(new RegExp(`^${server.base}/realms/${REALM}/login-actions/`));
    const moved = await browser.request(first.location as string);
    expect(moved.status).toBe(303);
    expect(moved.location).toBe(`${mtls}${new URL(first.location as string).pathname}`);
    const confirm = await browser.navigate(moved.location as string, REDIRECT);
    expect(confirm.body).toContain("kc-x509-login-info");
    const form = formOf(confirm, "kc-x509-login-info");
    expect(form.action.startsWith(`${mtls}/`)).toBe(true);
    const resume = await browser.request(form.action, { form: { ...form.fields, login: "login" } });
    expect(resume.location?.startsWith(`${server.base}/realms/${REALM}/protocol/openid-connect/auth/`), resume.body).toBe(true);
    const done = await browser.navigate(resume.location as string, REDIRECT);
    expect(done.location).toMatch(/^https:\/\/app\.example\/callback\?code=/);
  });

  it("a bad IDP_MTLS_PORT is refused at start, naming the variable", async () => {
    const { loadSettings } = await import("../../src/config/env.ts");
    expect(() => loadSettings({ IDP_HTTPS_PORT: "8443", IDP_MTLS_PORT: "8443" })).toThrow(/IDP_MTLS_PORT: a port of its own/);
    expect(() => loadSettings({ IDP_MTLS_PUBLIC_URL: "http://mtls.example.org" })).toThrow(/IDP_MTLS_PUBLIC_URL/);
    expect(loadSettings({ IDP_PUBLIC_URL: "https://login.example.org", IDP_MTLS_PORT: "9443" }).mtlsPublicUrl).toBe("https://login.example.org:9443");
    expect(loadSettings({ IDP_PUBLIC_URL: "https://login.example.org", IDP_MTLS_PUBLIC_URL: "https://mtls.login.example.org" }).mtlsPublicUrl).toBe("https://mtls.login.example.org");
  });
});

describe("a certificate listener on a host name of its own (IDP_MTLS_PUBLIC_URL)", () => {
  let other: TestServer;
  let otherMtls: string;
  beforeAll(async () => {
    const port = await freePort();
    otherMtls = `https://127.0.0.1:${port}`; // another host name than localhost: no shared cookies
    other = await startTestServer({ env: { IDP_HTTPS_CLIENT_CERT: "none", IDP_MTLS_PORT: String(port), IDP_MTLS_PUBLIC_URL: otherMtls } });
    await createRealm(other);
  });
  afterAll(async () => {
    await other?.stop();
    await other?.db.drop();
  });

  /** Up to the main host's login page, after the certificate listener handed the certificate back. */
  async function handedBack(browser: Browser) {
    const rp = await relyingParty(other, REALM, "webapp", "webapp-secret");
    const req = await authorizationRequest(rp, REDIRECT);
    const first = await browser.request(req.url);
    const login = first.location as string;
    const away = await browser.request(login);
    expect(away.status).toBe(303);
    expect(away.location).toMatch(new RegExp(`^${otherMtls}/realms/${REALM}/login-actions/[^/]+/certificate\\?state=`));
    const back = await browser.request(away.location as string);
    expect(back.location?.startsWith(`${login}?x509_handoff=`)).toBe(true);
    return { back: back.location as string, away: away.location as string };
  }

  it("the certificate listener reads the certificate and hands it back; the confirmation and the login end on the main host", async () => {
    const browser = new Browser(other.withCertificate(svc.pem + pki.intermediate.pem, keyPem(svc.key)).dispatcher);
    const { back } = await handedBack(browser);
    const confirm = await browser.request(back);
    expect(confirm.body).toContain("kc-x509-login-info");
    const form = formOf(confirm, "kc-x509-login-info");
    expect(form.action.startsWith(`${other.base}/`)).toBe(true);
    expect(form.fields.x509_handoff).toBeTruthy();
    const resume = await browser.request(form.action, { form: { ...form.fields, login: "login" } });
    expect(resume.location?.startsWith(`${other.base}/realms/${REALM}/protocol/openid-connect/auth/`), resume.body).toBe(true);
    const done = await browser.navigate(resume.location as string, REDIRECT);
    expect(done.location).toMatch(/^https:\/\/app\.example\/callback\?code=/);
  });

  it("a hand-off made for another browser's state (login CSRF) or tampered with gives the password page, nobody logged in", async () => {
    // The victim starts a login; the attacker, who learnt the interaction's address, has the certificate listener
    // hand back its own certificate for that interaction, with a state of its choosing.
    const victim = new Browser(other.dispatcher);
    const rp = await relyingParty(other, REALM, "webapp", "webapp-secret");
    const first = await victim.request((await authorizationRequest(rp, REDIRECT)).url);
    const login = first.location as string;
    const away = await victim.request(login);
    expect(away.location).toContain("/certificate?state=");
    const attacker = other.withCertificate(svc.pem + pki.intermediate.pem, keyPem(svc.key));
    const forged = await attacker.fetch(`${otherMtls}${new URL(login).pathname}/certificate?state=${"a".repeat(32)}`);
    expect(forged.status).toBe(303);
    const page = await victim.request(forged.headers.get("location") as string);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="kc-form-login"');
    expect(page.body).not.toContain("kc-x509-login-info");
    // Its own hand-off, tampered with: refused the same way.
    const own = await victim.request(away.location as string);
    const tampered = (own.location as string).replace(/x509_handoff=([^.]+)\.(.)/, (_m, p: string, c: string) => `x509_handoff=${p}.${c === "A" ? "B" : "A"}`);
    const again = await victim.request(tampered);
    expect(again.body).toContain('id="kc-form-login"');
    expect(again.body).not.toContain("kc-x509-login-info");
    // The untampered one (no certificate on the victim's connection): the password page too, without a banner.
    const plain = await victim.request(own.location as string);
    expect(plain.body).toContain('id="kc-form-login"');
  });
});
