// Certificate login in a real browser: headless Chromium presents the client certificate from its own TLS stack
// (NSS database + AutoSelectCertificateForUrls), sees the confirmation page with the subject DN and the username,
// and Continue lands on the client's redirect URI with a code (exchanged here by openid-client: amr x509), also with a
// certificate listener of its own (the login moves there and back). A browser
// without the certificate gets the password page. The confirmation page is saved as test-results/x509-confirm.png.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pkcs12 } from "../../src/demo/pkcs12.ts";
import { certificateBrowser, plainBrowser, type CertificateBrowser } from "../helpers/chromium.ts";
import { ROOT } from "../helpers/cli.ts";
import { buildPki, type Pki } from "../helpers/pki.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { freePort, startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let pki: Pki;
let rp: oidc.Configuration;
let callback: http.Server;
let redirectUri: string;
const browsers: CertificateBrowser[] = [];
const REALM = "chrome";

beforeAll(async () => {
  server = await startTestServer();
  pki = buildPki();
  callback = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("back at the client"));
  await new Promise<void>((r) => callback.listen(0, "127.0.0.1", r));
  redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  const res = await server.admin("POST", "/admin/realms", {
    realm: REALM,
    x509: {
      browser: { enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's e-mail" } },
      // Browsers send only the certificate unless they can build its chain themselves: the realm lists the
      // intermediate too, as it should.
      trustAnchors: [pki.root.pem, pki.intermediate.pem],
    },
    clients: [{ clientId: "webapp", secret: "webapp-secret", redirectUris: [redirectUri] }],
    users: [{ username: "test-user", email: "test-user@localhost", credentials: [{ type: "password", value: "password" }] }],
  });
  expect(res.status).toBe(201);
  rp = await relyingParty(server, REALM, "webapp", "webapp-secret");
}, 120_000);
afterAll(async () => {
  for (const b of browsers) await b.close();
  await new Promise((r) => callback?.close(r));
  await server?.stop();
  await server?.db.drop();
});

describe("a real browser with a client certificate", () => {
  it("shows the confirmation page, and Continue returns to the client with a code for the certificate's user", async () => {
    const b = await certificateBrowser({
      p12: pkcs12(pki.leaf.key.privateKey, [pki.leaf.der, pki.intermediate.der], "p12-password", "test-user"),
      password: "p12-password",
      origin: server.base,
      issuerCn: "Keycloak Intermediate CA",
    });
    browsers.push(b);
    const page = await b.context.newPage();
    const req = await authorizationRequest(rp, redirectUri);
    await page.goto(req.url, { timeout: 30_000 });
    await page.waitForSelector("#kc-x509-login-info", { timeout: 30_000 }).catch(async (e: unknown) => { throw new Error(`${String(e)}\n${page.url()}\n${(await page.content()).slice(0, 3000)}`); });
    expect(await page.textContent("#certificate_subjectDN")).toBe("EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, L=Boston, ST=MA, C=US");
    expect(await page.textContent("#username")).toBe("test-user");
    fs.mkdirSync(path.join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, "test-results", "x509-confirm.png"), fullPage: true });

    await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 30_000 }), page.click("#kc-login")]);
    expect(new URL(page.url()).searchParams.get("code")).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), req.checks);
    expect(tokens.claims()).toMatchObject({ amr: ["x509"], email: "test-user@localhost" });
  });

  it("a browser without the certificate gets the password page", async () => {
    const b = await plainBrowser();
    browsers.push(b);
    const page = await b.context.newPage();
    const req = await authorizationRequest(rp, redirectUri);
    await page.goto(req.url, { timeout: 30_000 });
    await page.waitForSelector("#kc-form-login", { timeout: 30_000 });
    expect(await page.$("#kc-x509-login-info")).toBeNull();
    await page.fill("#username", "test-user");
    await page.fill("#password", "password");
    await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 30_000 }), page.click("#kc-login")]);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), req.checks);
    expect(tokens.claims()).toMatchObject({ amr: ["pwd"] });
  });
});

describe("a real browser with a certificate listener of its own (IDP_HTTPS_CLIENT_CERT=none, IDP_MTLS_PORT)", () => {
  let split: TestServer;
  let mtlsOrigin: string;
  beforeAll(async () => {
    const mtlsPort = await freePort();
    mtlsOrigin = `https://localhost:${mtlsPort}`;
    split = await startTestServer({ env: { IDP_HTTPS_CLIENT_CERT: "none", IDP_MTLS_PORT: String(mtlsPort) } });
    const res = await split.admin("POST", "/admin/realms", {
      realm: REALM,
      x509: { browser: { enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's e-mail" } }, trustAnchors: [pki.root.pem, pki.intermediate.pem] },
      clients: [{ clientId: "webapp", secret: "webapp-secret", redirectUris: [redirectUri] }],
      users: [{ username: "test-user", email: "test-user@localhost" }],
    });
    expect(res.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await split?.stop();
    await split?.db.drop();
  });

  it("the login moves to the certificate listener, where the browser's certificate is asked for, and ends at the client", async () => {
    const b = await certificateBrowser({
      p12: pkcs12(pki.leaf.key.privateKey, [pki.leaf.der, pki.intermediate.der], "p12-password", "test-user"),
      password: "p12-password",
      origin: mtlsOrigin,
      issuerCn: "Keycloak Intermediate CA",
    });
    browsers.push(b);
    const splitRp = await relyingParty(split, REALM, "webapp", "webapp-secret");
    const page = await b.context.newPage();
    const visited: string[] = [];
    page.on("request", (r) => visited.push(r.url()));
    const req = await authorizationRequest(splitRp, redirectUri);
    await page.goto(req.url, { timeout: 30_000 });
    await page.waitForSelector("#kc-x509-login-info", { timeout: 30_000 }).catch(async (e: unknown) => { throw new Error(`${String(e)}\n${page.url()}\n${(await page.content()).slice(0, 3000)}`); });
    expect(page.url().startsWith(`${mtlsOrigin}/realms/${REALM}/login-actions/`)).toBe(true);
    expect(await page.textContent("#username")).toBe("test-user");
    await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 30_000 }), page.click("#kc-login")]);
    expect(visited.some((u) => u.startsWith(`${split.base}/realms/${REALM}/protocol/openid-connect/auth/`))).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(splitRp, new URL(page.url()), req.checks);
    expect(tokens.claims()).toMatchObject({ amr: ["x509"], email: "test-user@localhost" });
  });
});
