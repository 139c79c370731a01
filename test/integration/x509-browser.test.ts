// The browser flow with a client certificate (keycloak-x509.md §5.1), end to end: openid-client as the relying
// party, the login pages fetched and posted over real mutual TLS. Confirmation (Continue, Ignore), every error
// banner with the password fallback, the certificate re-checked on Continue, bypass, second factor, just-in-time
// provisioning, xmppAddr choice, the German page, events.
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, errorBanner, formOf, type Page } from "../helpers/browser.ts";
import { ext, type BuiltCert } from "../helpers/certs.ts";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let pki: Pki;
let rp: oidc.Configuration;
const REALM = "web";
const REDIRECT = "https://app.example/callback";
const base = { "x509-cert-auth.mapping-source-selection": "Subject's e-mail" };

async function setBrowser(browser: { enabled: boolean; config?: Record<string, string> }) {
  const res = await server.admin("PUT", `/admin/realms/${REALM}/x509`, { browser, trustAnchors: [pki.root.pem] });
  expect(res.status, await res.clone().text()).toBe(200);
}

const browserWith = (c?: BuiltCert) => new Browser(c ? server.withCertificate(c.pem + pki.intermediate.pem, keyPem(c.key)).dispatcher : server.dispatcher);

/** Starts a login and returns the first page the user sees. */
async function start(browser: Browser, extra: Record<string, string> = {}) {
  const req = await authorizationRequest(rp, REDIRECT, "openid", extra);
  const page = await browser.navigate(req.url, REDIRECT);
  return { req, page };
}

async function finishAt(page: Page, req: Awaited<ReturnType<typeof authorizationRequest>>) {
  expect(page.location, page.body.slice(0, 400)).toMatch(/^https:\/\/app\.example\/callback\?code=/);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location as string), req.checks);
  return tokens.claims() as Record<string, unknown>;
}

const text = (p: Page) => p.body.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");

beforeAll(async () => {
  server = await startTestServer();
  pki = buildPki();
  const res = await server.admin("POST", "/admin/realms", {
    realm: REALM,
    failureFactor: 2,
    clients: [{ clientId: "webapp", secret: "webapp-secret", redirectUris: [REDIRECT] }],
    users: [
      { username: "test-user", email: "test-user@localhost", credentials: [{ type: "password", value: "password" }] },
      { username: "other", email: "other@localhost", credentials: [{ type: "password", value: "other-pw" }] },
      { username: "disabled-user", email: "disabled@localhost", enabled: false },
      { username: "locked-user", email: "locked@localhost", credentials: [{ type: "password", value: "pw" }] },
      { username: "twin1", email: "twin1@localhost", attributes: { org: ["Red Hat"] } },
      { username: "twin2", email: "twin2@localhost", attributes: { org: ["Red Hat"] } },
    ],
  });
  expect(res.status).toBe(201);
  rp = await relyingParty(server, REALM, "webapp", "webapp-secret");
  await setBrowser({ enabled: true, config: base });
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

describe("no certificate, or no certificate login", () => {
  it("without a certificate the password page comes silently, and the password logs in (amr pwd)", async () => {
    const b = browserWith();
    const { req, page } = await start(b);
    expect(page.status).toBe(200);
    expect(errorBanner(page)).toBeUndefined();
    expect(page.body).not.toContain('class="info"');
    const form = formOf(page, "kc-form-login");
    const done = await b.navigate(form.action, REDIRECT, { form: { ...form.fields, username: "test-user", password: "password" } });
    expect(await finishAt(done, req)).toMatchObject({ amr: ["pwd"] });
  });

  it("a certificate in a realm whose browser flow has no certificate login: silent; enabled without configuration: Keycloak's info message", async () => {
    await setBrowser({ enabled: false, config: base });
    const silent = (await start(browserWith(pki.leaf))).page;
    expect(silent.body).toContain('id="kc-form-login"');
    expect(silent.body).not.toContain('class="info"');
    await setBrowser({ enabled: true });
    const info = (await start(browserWith(pki.leaf))).page;
    expect(text(info)).toContain("X509 client authentication has not been configured yet");
    expect(info.body).toContain('id="kc-form-login"');
    await setBrowser({ enabled: true, config: base });
  });
});

describe("confirmation", () => {
  it("shows the subject DN and the username; Continue logs in with amr x509", async () => {
    const b = browserWith(pki.leaf);
    const { req, page } = await start(b);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<label id="certificate_subjectDN">EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, L=Boston, ST=MA, C=US</label>');
    expect(page.body).toContain('<label id="username">test-user</label>');
    expect(text(page)).toContain("X509 client certificate:");
    expect(text(page)).toContain("You will be logged in as:");
    const form = formOf(page, "kc-x509-login-info");
    const done = await b.navigate(form.action, REDIRECT, { form: { ...form.fields, login: "login" } });
    expect(await finishAt(done, req)).toMatchObject({ amr: ["x509"], email: "test-user@localhost" });
  });

  it("Ignore leads to the password page, and a password login for anyone", async () => {
    const b = browserWith(pki.leaf);
    const { req, page } = await start(b);
    const form = formOf(page, "kc-x509-login-info");
    const pw = await b.navigate(form.action, REDIRECT, { form: { ...form.fields, cancel: "cancel" } });
    expect(pw.body).toContain('id="kc-form-login"');
    const login = formOf(pw, "kc-form-login");
    const done = await b.navigate(login.action, REDIRECT, { form: { ...login.fields, username: "other", password: "other-pw" } });
    expect(await finishAt(done, req)).toMatchObject({ amr: ["pwd"], email: "other@localhost" });
  });

  it("Continue with another certificate on the connection is refused", async () => {
    const b = browserWith(pki.leaf);
    const { page } = await start(b);
    const form = formOf(page, "kc-x509-login-info");
    const other = browserWith(pki.issue({ cn: "other", serial: 99 }));
    for (const [k, v] of b.cookies) other.cookies.set(k, v);
    const refused = await other.navigate(form.action, REDIRECT, { form: { ...form.fields, login: "login" } });
    expect(refused.status).toBe(400);
    expect(errorBanner(refused)).toBe("Your client certificate changed while you were signing in. Please sign in again.");
    // A forged pending login is refused too.
    const forged = await b.navigate(form.action, REDIRECT, { form: { ...form.fields, x509: form.fields.x509?.replace(/^[^.]+/, "someone-else") ?? "", login: "login" } });
    expect(forged.status).toBe(400);
  });

  it("the German page reads 'X509 Client Zertifikat:'", async () => {
    const b = browserWith(pki.leaf);
    b.acceptLanguage = "de";
    const { page } = await start(b);
    expect(text(page)).toContain("X509 Client Zertifikat:");
    expect(text(page)).toContain("Sie werden angemeldet als:");
  });

  it("bypass: straight back to the client", async () => {
    await setBrowser({ enabled: true, config: { ...base, "x509-cert-auth.confirmation-page-disallowed": "true" } });
    const b = browserWith(pki.leaf);
    const { req, page } = await start(b);
    expect(await finishAt(page, req)).toMatchObject({ amr: ["x509"] });
    await setBrowser({ enabled: true, config: base });
  });
});

describe("errors show a banner on the password page, and the password still works", () => {
  const banner = async (cert: BuiltCert, config: Record<string, string> = base) => {
    await setBrowser({ enabled: true, config });
    const b = browserWith(cert);
    const { req, page } = await start(b);
    return { b, req, page, banner: errorBanner(page) };
  };

  it("a certificate that fails validation", async () => {
    const r = await banner(pki.leaf, { ...base, "x509-cert-auth.keyusage": "dataEncipherment" });
    expect(r.banner).toBe("Certificate validation's failed. Certificate revoked or incorrect.");
    expect(r.page.body).not.toContain("dataEncipherment"); // the reason is not shown
    const form = formOf(r.page, "kc-form-login");
    const done = await r.b.navigate(form.action, REDIRECT, { form: { ...form.fields, username: "test-user", password: "password" } });
    expect(await finishAt(done, r.req)).toMatchObject({ amr: ["pwd"] });
  });

  it("an untrusted certificate", async () => {
    const stranger = buildPki();
    await setBrowser({ enabled: true, config: base });
    const b = new Browser(server.withCertificate(stranger.leaf.pem + stranger.intermediate.pem, keyPem(stranger.leaf.key)).dispatcher);
    expect(errorBanner((await start(b)).page)).toBe("Certificate validation's failed. Certificate revoked or incorrect.");
  });

  it("no identity, user not found, several users, disabled; password failures do not block the certificate", async () => {
    expect((await banner(pki.leaf, { ...base, "x509-cert-auth.mapping-source-selection": "Subject's Alternative Name otherName (UPN)" /* the leaf has one */, "x509-cert-auth.mapper-selection": "Username or Email" })).banner).toBe("X509 certificate authentication's failed. Invalid user");
    const noUpn = pki.issue({ cn: "x", serial: 41, extensions: [ext.keyUsage(["digitalSignature"])] });
    expect((await banner(noUpn, { ...base, "x509-cert-auth.mapping-source-selection": "Subject's Alternative Name otherName (UPN)" })).banner).toBe("Unable to extract user identity from specified certificate");
    expect((await banner(pki.issue({ cn: "nobody", serial: 42 }))).banner).toBe("X509 certificate authentication's failed. Invalid user");
    const org = { "x509-cert-auth.mapping-source-selection": "Match SubjectDN using regular expression", "x509-cert-auth.regular-expression": "O=(.*?)(?:,|$)", "x509-cert-auth.mapper-selection": "Custom Attribute Mapper", "x509-cert-auth.mapper-selection.user-attribute-name": "org" };
    expect((await banner(pki.issue({ cn: "any", serial: 43 }), org)).banner).toBe("X509 certificate authentication's failed. 2 users match the certificate's identity.");
    expect((await banner(pki.issue({ cn: "disabled", serial: 44 }))).banner).toBe("X509 certificate authentication's failed. User is disabled");
    const pw = browserWith();
    for (let i = 0; i < 2; i++) {
      const p = (await start(pw)).page;
      const f = formOf(p, "kc-form-login");
      await pw.navigate(f.action, REDIRECT, { form: { ...f.fields, username: "locked-user", password: "wrong" } });
    }
    const certificate = await start(browserWith(pki.issue({ cn: "locked", serial: 45 })));
    expect(certificate.page.body).toContain('<label id="username">locked-user</label>');
    await setBrowser({ enabled: true, config: base });
  });
});

describe("modes", () => {
  it("second factor: the password page follows the certificate; the password must be the certificate user's; a certificate is required", async () => {
    await setBrowser({ enabled: true, config: { ...base, "x509-idp.require-password": "true" } });
    const b = browserWith(pki.leaf);
    const { req, page } = await start(b);
    expect(text(page)).toContain("Your certificate was accepted. Enter your password to finish signing in.");
    expect(page.body).toMatch(/id="username"[^>]*value="test-user"[^>]*readonly/);
    const form = formOf(page, "kc-form-login");
    const wrongUser = await b.navigate(form.action, REDIRECT, { form: { ...form.fields, username: "other", password: "other-pw" } });
    expect(errorBanner(wrongUser)).toBe("The password must be the one of the certificate's user.");
    const wrongPw = await b.navigate(form.action, REDIRECT, { form: { ...form.fields, password: "nope" } });
    expect(errorBanner(wrongPw)).toBe("Invalid username or password.");
    const done = await b.navigate(form.action, REDIRECT, { form: { ...form.fields, password: "password" } });
    expect(await finishAt(done, req)).toMatchObject({ amr: ["x509", "pwd"] });

    const noCert = browserWith();
    const first = (await start(noCert)).page;
    expect(errorBanner(first)).toBe("A valid client certificate is required to sign in.");
    const f = formOf(first, "kc-form-login");
    const refused = await noCert.navigate(f.action, REDIRECT, { form: { ...f.fields, username: "test-user", password: "password" } });
    expect(errorBanner(refused)).toBe("A valid client certificate is required to sign in.");
    await setBrowser({ enabled: true, config: base });
  });

  it("just-in-time provisioning creates the user on the first certificate login", async () => {
    await setBrowser({ enabled: true, config: { ...base, "x509-cert-auth.mapping-source-selection": "Subject's Common Name", "x509-idp.create-user": "true" } });
    const b = browserWith(pki.issue({ cn: "fresh.user", serial: 51 }));
    const { req, page } = await start(b);
    expect(page.body).toContain('<label id="username">fresh.user</label>');
    const form = formOf(page, "kc-x509-login-info");
    const claims = await finishAt(await b.navigate(form.action, REDIRECT, { form: { ...form.fields, login: "login" } }), req);
    expect(claims).toMatchObject({ amr: ["x509"], preferred_username: "fresh.user" });
    await setBrowser({ enabled: true, config: base });
  });

  it("xmppAddr: several addresses need login_hint, which must be one of them", async () => {
    await setBrowser({ enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's Alternative Name xmppAddr", "x509-idp.create-user": "true" } });
    const cert = pki.issue({ cn: "jabber", serial: 61, extensions: [ext.keyUsage(["digitalSignature"]), ext.san([{ xmpp: "carol@chat.example" }, { xmpp: "carol@ops.example" }])] });
    const none = (await start(browserWith(cert))).page;
    expect(errorBanner(none)).toBe("X509 certificate authentication's failed. Your certificate holds several addresses (carol@chat.example, carol@ops.example). Sign in again with one of them as the login hint.");
    const wrong = (await start(browserWith(cert), { login_hint: "dave@chat.example" })).page;
    expect(errorBanner(wrong)).toContain("several addresses");
    const b = browserWith(cert);
    const { req, page } = await start(b, { login_hint: "carol@ops.example" });
    expect(page.body).toContain('<label id="username">carol@ops.example</label>');
    const form = formOf(page, "kc-x509-login-info");
    expect(await finishAt(await b.navigate(form.action, REDIRECT, { form: { ...form.fields, login: "login" } }), req)).toMatchObject({ amr: ["x509"] });
    await setBrowser({ enabled: true, config: base });
  });
});

describe("events", () => {
  it("records the browser's certificate logins and failures with the certificate's details", async () => {
    await new Promise((r) => setTimeout(r, 1200));
    const events = (await (await server.admin("GET", `/admin/realms/${REALM}/events?max=500`)).json()) as { type: string; error?: string; details: Record<string, string> }[];
    const login = events.find((e) => e.type === "LOGIN" && e.details.auth_type === "x509" && e.details.x509_cert_serial_number === "4105");
    expect(login?.details).toMatchObject({ username: "test-user@localhost", x509_cert_subject_distinguished_name: expect.stringContaining("CN=test-user"), x509_cert_issuer_distinguished_name: expect.stringContaining("CN=Keycloak Intermediate CA") });
    expect(events.filter((e) => e.type === "REGISTER").map((e) => e.details.username)).toEqual(expect.arrayContaining(["fresh.user", "carol@ops.example"]));
    expect(events.some((e) => e.type === "LOGIN" && e.details.auth_type === "x509 pwd")).toBe(true);
    const reasons = events.filter((e) => e.type === "LOGIN_ERROR").map((e) => e.details.reason);
    expect(reasons).toEqual(expect.arrayContaining(["KEY_USAGE", "UNTRUSTED", "NO_IDENTITY", "USER_NOT_FOUND", "DUPLICATE_USERS", "USER_DISABLED", "CERTIFICATE_CHANGED", "PASSWORD_USER_MISMATCH", "IDENTITY_NOT_CHOSEN"]));
  });
});
