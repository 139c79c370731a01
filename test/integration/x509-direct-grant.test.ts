// The direct grant with a client certificate over real mutual TLS (keycloak-x509.md §5.2): every row of the error
// contract, success with certificate-bound tokens (userinfo and refresh need the certificate), username checks,
// just-in-time provisioning, xmppAddr identities, events.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ext, type BuiltCert } from "../helpers/certs.ts";
import { buildPki, clientProfile, intermediateCrl, keyPem, type Pki } from "../helpers/pki.ts";
import { startHttpServer, type CrlServer } from "../helpers/revocation-servers.ts";
import { startTestServer, type MtlsClient, type TestServer } from "../helpers/server.ts";
import { runCli } from "../helpers/cli.ts";

let server: TestServer;
let pki: Pki;
let crl: CrlServer;
const REALM = "x509";
const CLIENT = { client_id: "resource-owner", client_secret: "secret" };
const DAY = 86400_000;

const baseConfig = {
  "x509-cert-auth.mapping-source-selection": "Subject's e-mail",
  "x509-cert-auth.mapper-selection": "Username or Email",
};

async function setX509(directGrant: { enabled: boolean; config?: Record<string, string> }, anchors = [pki.root.pem]) {
  const res = await server.admin("PUT", `/admin/realms/${REALM}/x509`, { directGrant, trustAnchors: anchors });
  expect(res.status, await res.clone().text()).toBe(200);
}

const as = (c: BuiltCert): MtlsClient => server.withCertificate(c.pem + pki.intermediate.pem, keyPem(c.key));
const grant = async (client: Pick<MtlsClient, "fetch">, extra: Record<string, string> = {}) => {
  const res = await client.fetch(`/realms/${REALM}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams({ grant_type: "password", ...CLIENT, username: "", password: "", ...extra }) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

beforeAll(async () => {
  server = await startTestServer();
  crl = await startHttpServer();
  pki = buildPki();
  const res = await server.admin("POST", "/admin/realms", {
    realm: REALM,
    failureFactor: 2,
    clients: [{ clientId: "resource-owner", secret: "secret", directAccessGrantsEnabled: true }],
    users: [
      { username: "test-user@localhost", email: "test-user@localhost", attributes: { alternative_email: ["test-user-altmail@localhost"], team: ["red"] }, credentials: [{ type: "password", value: "password" }] },
      { username: "twin-a", attributes: { team: ["blue"] } },
      { username: "twin-b", attributes: { team: ["blue"] } },
      { username: "disabled-user", email: "disabled@localhost", enabled: false },
      { username: "locked-user", email: "locked@localhost", credentials: [{ type: "password", value: "password" }] },
    ],
  });
  expect(res.status).toBe(201);
  await setX509({ enabled: true, config: baseConfig });
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
  await crl?.close();
});

describe("Keycloak's direct-grant error contract, over mutual TLS", () => {
  it("no certificate: 401 invalid_request \"X509 client certificate is missing.\"", async () => {
    expect(await grant(server)).toEqual({ status: 401, body: { error: "invalid_request", error_description: "X509 client certificate is missing." } });
  });

  it("no configuration: 401 invalid_request \"Configuration is missing.\"", async () => {
    await setX509({ enabled: true });
    try {
      expect(await grant(as(pki.leaf))).toEqual({ status: 401, body: { error: "invalid_request", error_description: "Configuration is missing." } });
    } finally {
      await setX509({ enabled: true, config: baseConfig });
    }
  });

  it("validation failures: 401 invalid_request with Keycloak's message (key usage, expiry, revocation, untrusted)", async () => {
    await setX509({ enabled: true, config: { ...baseConfig, "x509-cert-auth.keyusage": "dataEncipherment" } });
    expect(await grant(as(pki.leaf))).toEqual({ status: 401, body: { error: "invalid_request", error_description: "Key Usage bit 'dataEncipherment' is not set." } });
    await setX509({ enabled: true, config: baseConfig });

    const expired = pki.issue({ cn: "test-user", serial: 4105, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const r = await grant(as(expired));
    expect(r.status).toBe(401);
    expect(r.body.error_description).toMatch(/^certificate with serialnumber '10 09' has expired on: \w{3} \w{3} \d\d /);

    crl.routes.set("/i.crl", intermediateCrl(pki, { revoked: [{ serial: 4105 }] }));
    await setX509({ enabled: true, config: { ...baseConfig, "x509-cert-auth.crl-checking-enabled": "true", "x509-cert-auth.crl-relative-path": `${crl.base}/i.crl` } });
    expect(await grant(as(pki.leaf))).toEqual({
      status: 401, body: { error: "invalid_request", error_description: "Certificate has been revoked, certificate's subject: EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, L=Boston, ST=MA, C=US" },
    });
    crl.routes.set("/i.crl", 404);
    server.started.services.revocation.crlCache.clear();
    // A CRL that cannot be loaded: the description names no URL.
    expect(await grant(as(pki.leaf))).toEqual({ status: 401, body: { error: "invalid_request", error_description: "Unable to load CRL" } });
    await setX509({ enabled: true, config: baseConfig });

    const stranger = buildPki();
    expect(await grant(server.withCertificate(stranger.leaf.pem + stranger.intermediate.pem, keyPem(stranger.leaf.key)))).toEqual({
      status: 401, body: { error: "invalid_request", error_description: "Unable to find certificate chain." },
    });
  });

  it("a CRL location that fails is asked once: the next logins answer at once, and their events say the failure was remembered", async () => {
    crl.routes.set("/down.crl", 503);
    await setX509({ enabled: true, config: { ...baseConfig, "x509-cert-auth.crl-checking-enabled": "true", "x509-cert-auth.crl-relative-path": `${crl.base}/down.crl` } });
    try {
      for (let i = 0; i < 3; i++) expect(await grant(as(pki.leaf))).toEqual({ status: 401, body: { error: "invalid_request", error_description: "Unable to load CRL" } });
      expect(crl.count("/down.crl")).toBe(1);
      const errors = (await (await server.admin("GET", `/admin/realms/${REALM}/events?type=LOGIN_ERROR&max=1000`)).json()) as { details: Record<string, string> }[];
      // The first attempt asked (and failed); the two after it did not ask (and nothing else in this realm is remembered).
      expect(errors.filter((e) => e.details.revocation_failure_cached === "true")).toHaveLength(2);
    } finally {
      await setX509({ enabled: true, config: baseConfig });
    }
  });

  it("no identity: 401 invalid_request \"Unable to extract user identity from specified certificate\"", async () => {
    await setX509({ enabled: true, config: { ...baseConfig, "x509-cert-auth.mapping-source-selection": "Subject's Alternative Name otherName (UPN)" } });
    const noUpn = pki.issue({ cn: "test-user", serial: 11, extensions: [ext.keyUsage(["digitalSignature"])] });
    expect(await grant(as(noUpn))).toEqual({ status: 401, body: { error: "invalid_request", error_description: "Unable to extract user identity from specified certificate" } });
    await setX509({ enabled: true, config: baseConfig });
  });

  it("several users match: 401 invalid_request \"X509 certificate authentication's failed. Reason: …\"", async () => {
    await setX509({ enabled: true, config: { ...baseConfig, "x509-cert-auth.mapping-source-selection": "Match SubjectDN using regular expression", "x509-cert-auth.regular-expression": "O=(.*?)(?:,|$)", "x509-cert-auth.mapper-selection": "Custom Attribute Mapper", "x509-cert-auth.mapper-selection.user-attribute-name": "team" } });
    const blue = pki.issue({ cn: "whoever", serial: 12, extensions: clientProfile({}) });
    // The subject's O is "Red Hat"; make the twins' team match it.
    await server.admin("PUT", `/admin/realms/${REALM}/users/${await userId("twin-a")}`, { attributes: { team: ["Red Hat"] } });
    await server.admin("PUT", `/admin/realms/${REALM}/users/${await userId("twin-b")}`, { attributes: { team: ["Red Hat"] } });
    expect(await grant(as(blue))).toEqual({ status: 401, body: { error: "invalid_request", error_description: "X509 certificate authentication's failed. Reason: \"2 users match the certificate's identity\"" } });
    await setX509({ enabled: true, config: baseConfig });
  });

  it("user not found: 400 invalid_grant \"Invalid user credentials\" (Keycloak's old 401 is RFC 6749's 400 here)", async () => {
    const nobody = pki.issue({ cn: "nobody", serial: 13 });
    expect(await grant(as(nobody))).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid user credentials" } });
  });

  it("password failures do not block the certificate login of the same user (x509-idp; Keycloak refuses it)", async () => {
    for (let i = 0; i < 2; i++) await grant(server, { username: "locked-user", password: "wrong" });
    expect(await grant(server, { username: "locked-user", password: "password" })).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid user credentials" } });
    const locked = pki.issue({ cn: "locked", serial: 14 });
    const r = await grant(as(locked));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.access_token).toBeTruthy();
    // The password stays locked: the certificate login does not reset the guessing counter.
    expect((await grant(server, { username: "locked-user", password: "password" })).status).toBe(400);
  });

  it("a CA certificate as the client's certificate: 401 (an end entity is required), unless allowed", async () => {
    const ca = pki.issue({ cn: "test-user", serial: 16, extensions: [ext.basicConstraints(true), ext.keyUsage(["digitalSignature", "keyCertSign"])] });
    expect(await grant(as(ca))).toEqual({ status: 401, body: { error: "invalid_request", error_description: "The client certificate is a CA certificate, not an end entity." } });
    await setX509({ enabled: true, config: { ...baseConfig, "x509-idp.allow-ca-certificate": "true" } });
    try {
      expect((await grant(as(ca))).status).toBe(200);
    } finally {
      await setX509({ enabled: true, config: baseConfig });
    }
  });

  it("user disabled: 400 invalid_grant \"Account disabled\"", async () => {
    const disabled = pki.issue({ cn: "disabled", serial: 15 });
    expect(await grant(as(disabled))).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Account disabled" } });
  });
});

describe("success", () => {
  it("issues tokens for the certificate's user with no password, amr x509, bound to the certificate", async () => {
    const client = as(pki.leaf);
    const r = await grant(client, { scope: "openid" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "Bearer", scope: expect.stringContaining("openid") });
    const idClaims = JSON.parse(Buffer.from((r.body.id_token as string).split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
    expect(idClaims).toMatchObject({ amr: ["x509"], email: "test-user@localhost" });

    const userinfo = (c: Pick<MtlsClient, "fetch">) => c.fetch(`/realms/${REALM}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${r.body.access_token}` } });
    expect((await userinfo(client)).status).toBe(200);
    expect((await userinfo(server)).status).toBe(401);
    const other = pki.issue({ cn: "test-user", serial: 4106 });
    expect((await userinfo(as(other))).status).toBe(401);

    const refresh = (c: Pick<MtlsClient, "fetch">) => c.fetch(`/realms/${REALM}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: r.body.refresh_token as string, ...CLIENT }) });
    // Keycloak's answer when the refresh token's certificate is missing (keycloak-oidc.md §2).
    const without = await refresh(server);
    expect(without.status).toBe(401);
    expect(await without.json()).toEqual({ error: "unauthorized_client", error_description: "Client certificate missing, or its thumbprint and one in the refresh token did NOT match" });
    const refreshed = await refresh(client);
    expect(refreshed.status).toBe(200);
    const again = (await refreshed.json()) as { access_token: string };
    expect((await client.fetch(`/realms/${REALM}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${again.access_token}` } })).status).toBe(200);

    const introspection = await server.fetch(`/realms/${REALM}/protocol/openid-connect/token/introspect`, { method: "POST", body: new URLSearchParams({ token: again.access_token, ...CLIENT }) });
    // The JWT carries the binding (RFC 8705 §3.1): the SHA-256 thumbprint of the certificate's DER.
    const thumbprint = createHash("sha256").update(pki.leaf.der).digest("base64url");
    const claims = JSON.parse(Buffer.from(again.access_token.split(".")[1] as string, "base64url").toString()) as { cnf?: Record<string, string> };
    expect(claims.cnf).toEqual({ "x5t#S256": thumbprint });
    expect(await introspection.json()).toMatchObject({ active: true, cnf: { "x5t#S256": thumbprint } });
  });

  it("a username the certificate's user does not have is refused with 400, never a 500; a matching one is fine", async () => {
    expect(await grant(as(pki.leaf), { username: "someone-else" })).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid user credentials" } });
    expect((await grant(as(pki.leaf), { username: "test-user@localhost" })).status).toBe(200);
  });

  it("a password grant still works for the same client", async () => {
    expect((await grant(server, { username: "test-user@localhost", password: "password" })).status).toBe(200);
  });

  it("records LOGIN and LOGIN_ERROR events with the certificate's serial, subject and issuer and the reason", async () => {
    await new Promise((r) => setTimeout(r, 1200)); // events are written in batches
    const events = (await (await server.admin("GET", `/admin/realms/${REALM}/events?max=200`)).json()) as { type: string; error?: string; details: Record<string, string> }[];
    const login = events.find((e) => e.type === "LOGIN" && e.details.auth_method === "x509");
    expect(login?.details).toMatchObject({
      grant_type: "password", username: "test-user@localhost", x509_cert_serial_number: "4105",
      x509_cert_subject_distinguished_name: "EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, L=Boston, ST=MA, C=US",
      x509_cert_issuer_distinguished_name: "EMAILADDRESS=contact@keycloak.org, CN=Keycloak Intermediate CA, OU=Keycloak, O=Red Hat, ST=MA, C=US",
    });
    const errors = events.filter((e) => e.type === "LOGIN_ERROR" && e.details.auth_method === "x509");
    expect(errors.map((e) => e.details.reason)).toEqual(expect.arrayContaining(["NO_CERTIFICATE", "NOT_CONFIGURED", "KEY_USAGE", "CERT_EXPIRED", "CERT_REVOKED", "NO_IDENTITY", "DUPLICATE_USERS", "USER_NOT_FOUND", "USER_DISABLED", "UNTRUSTED", "USERNAME_MISMATCH"]));
    expect(errors.find((e) => e.details.reason === "USER_NOT_FOUND")).toMatchObject({ error: "user_not_found", details: { username: "nobody@localhost" } });
    expect(errors.find((e) => e.details.reason === "USER_DISABLED")).toMatchObject({ error: "user_disabled" });
    // One event per failed login: oidc-provider's generic LOGIN_ERROR (error "invalid_request", no reason) is not added.
    expect(events.filter((e) => e.type === "LOGIN_ERROR" && e.error === "invalid_request" && !e.details.reason)).toEqual([]);
  });

  it("x509-idp events lists them, filtered by type, as JSON lines or text", async () => {
    const json = await runCli(server.db, ["events", REALM, "--type", "LOGIN_ERROR", "--max", "500", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const rows = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; details: Record<string, string> });
    expect(rows.length).toBeGreaterThan(5);
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(["LOGIN_ERROR"]));
    expect(rows.some((r) => r.details.reason === "CERT_REVOKED" && r.details.x509_cert_serial_number === "4105")).toBe(true);
    const text = await runCli(server.db, ["events", REALM, "--type", "LOGIN", "--max", "1"]);
    expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}LOGIN {2}client=resource-owner {2}user=\S+ {2}.*grant_type=password/);
    const unknown = await runCli(server.db, ["events", "no-such-realm"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('realm "no-such-realm" not found');
  });
});

describe("modes", () => {
  it("creates the user on the first certificate login when configured (off by default)", async () => {
    const newcomer = pki.issue({ cn: "newcomer", serial: 21 });
    expect((await grant(as(newcomer))).status).toBe(400);
    await setX509({ enabled: true, config: { ...baseConfig, "x509-idp.create-user": "true" } });
    const first = await grant(as(newcomer), { scope: "openid" });
    expect(first.status).toBe(200);
    const users = (await (await server.admin("GET", `/admin/realms/${REALM}/users?username=newcomer@localhost&exact=true`)).json()) as { username: string; email: string; firstName: string }[];
    expect(users).toEqual([expect.objectContaining({ username: "newcomer@localhost", email: "test-user-altmail@localhost", firstName: "newcomer" })]);
    expect((await grant(as(newcomer))).status).toBe(200); // found, not created again
    await setX509({ enabled: true, config: baseConfig });
  });

  it("xmppAddr identities: the required domain, and a choice among several addresses through username", async () => {
    await setX509({ enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's Alternative Name xmppAddr", "x509-idp.xmpp-domain": "chat.example", "x509-idp.create-user": "true" } });
    const two = pki.issue({ cn: "jabber", serial: 31, extensions: [ext.keyUsage(["digitalSignature"]), ext.san([{ xmpp: "alice@chat.example" }, { xmpp: "alice-ops@chat.example" }, { xmpp: "alice@elsewhere.example" }])] });
    const none = await grant(as(two));
    expect(none.status).toBe(400);
    expect(none.body.error_description).toContain("several XMPP addresses");
    expect(none.body.error_description).toContain("alice@chat.example, alice-ops@chat.example");
    expect(await grant(as(two), { username: "alice@elsewhere.example" })).toMatchObject({ status: 400 });
    const chosen = await grant(as(two), { username: "alice-ops@chat.example", scope: "openid" });
    expect(chosen.status).toBe(200);
    const one = pki.issue({ cn: "jabber1", serial: 32, extensions: [ext.keyUsage(["digitalSignature"]), ext.san([{ xmpp: "bob@chat.example" }])] });
    expect((await grant(as(one))).status).toBe(200);
    await setX509({ enabled: true, config: baseConfig });
  });
});

async function userId(username: string): Promise<string> {
  const users = (await (await server.admin("GET", `/admin/realms/${REALM}/users?username=${username}&exact=true`)).json()) as { id: string }[];
  return users[0]?.id as string;
}
