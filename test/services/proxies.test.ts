// Certificate login through real reverse proxies (keycloak-x509.md §6): Debian's nginx, HAProxy and Apache httpd
// terminate mutual TLS and forward the certificate in a header to x509-idp's plain HTTP port, from 127.0.0.2, the only
// address in IDP_TRUSTED_PROXIES. The direct grant (certificate-bound tokens), client credentials with tls_client_auth and the browser confirmation run through
// each; the proxy's header replaces any the client sent; a header forged directly to x509-idp from 127.0.0.1 logs
// nobody in.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as oidc from "openid-client";
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, formOf } from "../helpers/browser.ts";
import type { BuiltCert } from "../helpers/certs.ts";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { PROXY_ADDRESS, startApache, startHaproxy, startNginx, type Proxy, type ProxyOptions } from "../helpers/proxies.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { freePort, startTestServer, type TestServer } from "../helpers/server.ts";

const REALM = "proxied";
const SCRIPT = { client_id: "script", client_secret: "script-secret" };
const REDIRECT = "https://app.example/callback";
const CONFIG = { "x509-cert-auth.mapping-source-selection": "Subject's e-mail", "x509-cert-auth.extendedkeyusage": "clientAuth" };
const TOKEN = `/realms/${REALM}/protocol/openid-connect/token`;

let pki: Pki;
let other: BuiltCert;
beforeAll(() => {
  pki = buildPki();
  other = pki.issue({ cn: "other", serial: 4106 });
});

const thumbprint = (c: BuiltCert) => createHash("sha256").update(c.der).digest("base64url");
const form = (fields: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(fields) });

interface Setup {
  server: TestServer;
  proxy: Proxy;
  httpPort: number;
  /** The header a client would forge, as this proxy's lookup reads it. */
  forged: Record<string, string>;
}

// nginx forwards the leaf alone, and HAProxy cannot forward the intermediates of a resumed TLS session (OpenSSL keeps
// only the leaf in it): the realm lists the intermediate among its trust anchors and x509-idp completes the chain.
interface ProxyKind {
  start: (o: ProxyOptions) => Promise<Proxy>;
  /** The header a client would forge, as this proxy's lookup reads it. */
  forged: () => Record<string, string>;
  env?: Record<string, string>;
}

const PROXIES: Record<"nginx" | "haproxy" | "apache", ProxyKind> = {
  nginx: { start: startNginx, forged: () => ({ "ssl-client-cert": encodeURIComponent(pki.leaf.pem) }) },
  haproxy: { start: startHaproxy, forged: () => ({ "client-cert": `:${Buffer.from(pki.leaf.der).toString("base64")}:` }) },
  apache: { start: startApache, forged: () => ({ ssl_client_cert: pki.leaf.pem.replace(/\n/g, " ") }), env: { IDP_X509_LOOKUP_SSL_CERT_CHAIN_PREFIX: "SSL_CLIENT_CERT_CHAIN" } },
};

describe.each(Object.keys(PROXIES) as (keyof typeof PROXIES)[])("through %s", (kind) => {
  let s: Setup;
  const agents: Agent[] = [];
  /** A client presenting `c` (with the intermediate) to the proxy. */
  const viaProxy = (c: BuiltCert, chain = true) => s.server.withCertificate(c.pem + (chain ? pki.intermediate.pem : ""), keyPem(c.key));
  const grant = async (client: { fetch: TestServer["fetch"] }, headers: Record<string, string> = {}) => {
    const res = await client.fetch(TOKEN, { ...form({ grant_type: "password", ...SCRIPT, scope: "openid" }), headers });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  beforeAll(async () => {
    const proxyPort = await freePort();
    const httpPort = await freePort();
    const server = await startTestServer({
      env: {
        IDP_HTTP_PORT: String(httpPort), IDP_PUBLIC_URL: `https://localhost:${proxyPort}`, IDP_TRUSTED_PROXIES: PROXY_ADDRESS, IDP_X509_LOOKUP: kind,
        ...PROXIES[kind].env,
      },
    });
    const tls = path.join(server.settings.dataDir, "tls");
    let proxy: Proxy;
    try {
      proxy = await PROXIES[kind].start({
        port: proxyPort, upstreamPort: httpPort, clientCaPem: pki.root.pem,
        certPem: fs.readFileSync(path.join(tls, "server.crt"), "utf8"), keyPem: fs.readFileSync(path.join(tls, "server.key"), "utf8"),
      });
    } catch (e) {
      await server.stop();
      throw e;
    }
    s = { server, proxy, httpPort, forged: PROXIES[kind].forged() };
    const res = await server.admin("POST", "/admin/realms", {
      realm: REALM,
      clients: [
        { clientId: SCRIPT.client_id, secret: SCRIPT.client_secret, directAccessGrantsEnabled: true },
        { clientId: "webapp", secret: "webapp-secret", redirectUris: [REDIRECT] },
        // A service that authenticates with its certificate (RFC 8705 tls_client_auth), forwarded by the proxy.
        { clientId: "svc", clientAuthenticatorType: "client-x509", serviceAccountsEnabled: true, standardFlowEnabled: false, attributes: { "x509.subjectdn": "(.*?)CN=test-user,(.*?)" } },
      ],
      users: [
        { username: "test-user", email: "test-user@localhost" },
        { username: "other", email: "other@localhost" },
      ],
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const x509 = await server.admin("PUT", `/admin/realms/${REALM}/x509`, {
      browser: { enabled: true, config: CONFIG }, directGrant: { enabled: true, config: CONFIG }, trustAnchors: [pki.root.pem, pki.intermediate.pem],
    });
    expect(x509.status, await x509.clone().text()).toBe(200);
  });
  afterAll(async () => {
    await s?.proxy.stop();
    await s?.server.stop();
    await s?.server.db.drop();
    await Promise.all(agents.map((a) => a.close()));
  });

  it("direct grant: tokens for the certificate's user, bound to it; userinfo through the proxy needs the same certificate", async () => {
    const client = viaProxy(pki.leaf);
    const r = await grant(client);
    expect(r.status, JSON.stringify(r.body) + s.proxy.log()).toBe(200);
    const introspect = await s.server.fetch(`${TOKEN}/introspect`, form({ ...SCRIPT, token: r.body.access_token as string }));
    expect(await introspect.json()).toMatchObject({ active: true, cnf: { "x5t#S256": thumbprint(pki.leaf) } });
    const userinfo = (c: { fetch: TestServer["fetch"] }) =>
      c.fetch(`/realms/${REALM}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${r.body.access_token}` } });
    const mine = await userinfo(client);
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ preferred_username: "test-user" });
    expect((await userinfo(s.server)).status).toBe(401);
    expect((await userinfo(viaProxy(other))).status).toBe(401);
  });

  it("x509-idp validates what the proxy forwards: a certificate of an unknown CA is refused", async () => {
    const stranger = buildPki();
    const r = await grant(s.server.withCertificate(stranger.leaf.pem + stranger.intermediate.pem, keyPem(stranger.leaf.key)));
    expect(r).toMatchObject({ status: 401, body: { error: "invalid_request" } });
  });

  it("without a client certificate there is none, even when the client sends the header itself (the proxy replaces it)", async () => {
    expect(await grant(s.server, s.forged)).toEqual({ status: 401, body: { error: "invalid_request", error_description: "X509 client certificate is missing." } });
  });

  it("the browser: the confirmation page through the proxy, Continue, and the code at the client", async () => {
    const rp = await relyingParty(s.server, REALM, "webapp", "webapp-secret");
    const browser = new Browser(viaProxy(pki.leaf).dispatcher);
    const req = await authorizationRequest(rp, REDIRECT);
    const page = await browser.navigate(req.url, REDIRECT);
    expect(page.status, page.body.slice(0, 300)).toBe(200);
    expect(page.body, page.body.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ")).toContain('<label id="username">test-user</label>');
    expect(page.body).toContain("CN=test-user");
    const confirm = formOf(page, "kc-x509-login-info");
    const done = await browser.navigate(confirm.action, REDIRECT, { form: { ...confirm.fields, login: "login" } });
    expect(done.location).toMatch(/^https:\/\/app\.example\/callback\?code=/);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(done.location as string), req.checks);
    expect(tokens.claims()).toMatchObject({ amr: ["x509"], email: "test-user@localhost" });
  });

  it("client credentials with tls_client_auth: the forwarded certificate authenticates the client and binds its token; a forged header does not", async () => {
    const svc = form({ grant_type: "client_credentials", client_id: "svc" });
    const ok = await viaProxy(pki.leaf).fetch(TOKEN, svc);
    const body = (await ok.json()) as { access_token?: string };
    expect(ok.status, JSON.stringify(body) + s.proxy.log()).toBe(200);
    const claims = JSON.parse(Buffer.from((body.access_token as string).split(".")[1] as string, "base64url").toString()) as { cnf?: unknown };
    expect(claims.cnf).toEqual({ "x5t#S256": thumbprint(pki.leaf) });
    expect((await viaProxy(other).fetch(TOKEN, svc)).status).toBe(401);
    const direct = await fetch(`http://127.0.0.1:${s.httpPort}${TOKEN}`, { ...svc, headers: s.forged });
    expect(direct.status).toBe(401);
    expect(await direct.json()).toEqual({ error: "invalid_client", error_description: "Client certificate missing" });
  });

  it("a header forged directly to x509-idp from an untrusted address logs nobody in, and is recorded", async () => {
    const direct = await fetch(`http://127.0.0.1:${s.httpPort}${TOKEN}`, { ...form({ grant_type: "password", ...SCRIPT }), headers: s.forged });
    expect(direct.status).toBe(401);
    expect(await direct.json()).toEqual({ error: "invalid_request", error_description: "X509 client certificate is missing." });

    // Over x509-idp's own HTTPS port with another user's TLS certificate: the connection's certificate decides.
    const agent = new Agent({ connect: { ca: s.server.ca, cert: other.pem + pki.intermediate.pem, key: keyPem(other.key) } });
    agents.push(agent);
    const tls = await fetch(`https://localhost:${s.server.port}${TOKEN}`, { ...form({ grant_type: "password", ...SCRIPT }), headers: s.forged, dispatcher: agent });
    const body = (await tls.json()) as { access_token?: string };
    expect(tls.status).toBe(200);
    const introspect = await s.server.fetch(`${TOKEN}/introspect`, form({ ...SCRIPT, token: body.access_token as string }));
    expect(await introspect.json()).toMatchObject({ cnf: { "x5t#S256": thumbprint(other) } });

    const events = (await (await s.server.admin("GET", `/admin/realms/${REALM}/events?type=UNTRUSTED_PROXY_HEADER`)).json()) as { details: Record<string, string>; ipAddress: string }[];
    expect(events.map((e) => e.details)).toEqual([
      { headers: Object.keys(s.forged)[0], used: "tls certificate" },
      { headers: Object.keys(s.forged)[0], used: "no certificate" },
    ]);
    expect(events.every((e) => e.ipAddress === "127.0.0.1")).toBe(true);
  });

  it("behind the proxy, events carry the client's address and discovery names the proxy's URLs", async () => {
    const disc = (await (await s.server.fetch(`/realms/${REALM}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(disc.token_endpoint).toBe(`${s.server.base}${TOKEN}`);
    const r = await grant(viaProxy(pki.leaf));
    expect(r.status).toBe(200);
    const events = (await (await s.server.admin("GET", `/admin/realms/${REALM}/events?type=LOGIN&max=1`)).json()) as { ipAddress: string }[];
    expect(events[0]?.ipAddress).toBe("127.0.0.1");
  });

  if (kind === "haproxy") {
    it("on a new TLS session the intermediates the client sent reach x509-idp in Client-Cert-Chain", async () => {
      const res = await s.server.admin("POST", "/admin/realms", {
        realm: "root-only",
        clients: [{ clientId: SCRIPT.client_id, secret: SCRIPT.client_secret, directAccessGrantsEnabled: true }],
        users: [{ username: "test-user", email: "test-user@localhost" }],
      });
      expect(res.status).toBe(201);
      await s.server.admin("PUT", "/admin/realms/root-only/x509", { directGrant: { enabled: true, config: CONFIG }, trustAnchors: [pki.root.pem] });
      const rootOnly = (c: { fetch: TestServer["fetch"] }) => c.fetch("/realms/root-only/protocol/openid-connect/token", form({ grant_type: "password", ...SCRIPT }));
      expect((await rootOnly(viaProxy(pki.leaf))).status).toBe(200);
      // The client that sends only its own certificate leaves a gap no anchor fills.
      const gap = await rootOnly(viaProxy(pki.leaf, false));
      expect(gap.status).toBe(401);
    });
  }
});
