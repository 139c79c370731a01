// Client authentication by certificate over real mutual TLS (issue #14): Keycloak's client-x509 (subject DN exact or
// regex), RFC 8705 tls_client_auth with each SAN matcher and self_signed_tls_client_auth, validated with the realm's
// trust anchors and direct-grant validation options (expiry, revocation, CA pins); refusals are 401 invalid_client
// with CLIENT_LOGIN_ERROR events carrying the certificate; tokens bound to the certificate on every grant; discovery;
// the admin API's validation; a Keycloak export with a client-x509 client; openid-client as a real RFC 8705 client.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as oidc from "openid-client";
import { fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, formOf } from "../helpers/browser.ts";
import { buildCert, ext, newKey, type BuiltCert, type ExtensionSpec } from "../helpers/certs.ts";
import { runCli } from "../helpers/cli.ts";
import { name } from "../helpers/der-build.ts";
import { buildPki, intermediateCrl, keyPem, type Pki } from "../helpers/pki.ts";
import { startHttpServer, type CrlServer } from "../helpers/revocation-servers.ts";
import { authorizationRequest } from "../helpers/rp.ts";
import { startTestServer, type MtlsClient, type TestServer } from "../helpers/server.ts";

const REALM = "services";
const TOKEN = `/realms/${REALM}/protocol/openid-connect/token`;
const REDIRECT = "https://app.example/callback";
const DAY = 86400_000;

let server: TestServer;
let pki: Pki;
let lookAlike: Pki;
let crl: CrlServer;
const cert: Record<string, BuiltCert> = {};
let selfSigned: BuiltCert;
let selfSignedPem: BuiltCert;

const thumbprint = (c: BuiltCert) => createHash("sha256").update(c.der).digest("base64url");
const profile = (...extra: ExtensionSpec[]): ExtensionSpec[] => [ext.keyUsage(["digitalSignature"], true), ext.extKeyUsage(["clientAuth"]), ...extra];
const present = (c: BuiltCert, chain: Pki = pki): MtlsClient => server.withCertificate(c.pem + chain.intermediate.pem, keyPem(c.key));
const form = (fields: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(fields) });

async function clientCredentials(client: Pick<MtlsClient, "fetch">, clientId: string, extra: Record<string, string> = {}) {
  const res = await client.fetch(TOKEN, form({ grant_type: "client_credentials", client_id: clientId, ...extra }));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const selfSignedCert = (cn: string) =>
  buildCert({ subject: name([[["CN", "utf8", cn]]]), serial: 77, key: newKey(), extensions: profile() });

function service(clientId: string, attributes: Record<string, string>, extra: Record<string, unknown> = {}) {
  return { clientId, clientAuthenticatorType: "client-x509", serviceAccountsEnabled: true, standardFlowEnabled: false, attributes, ...extra };
}

beforeAll(async () => {
  server = await startTestServer();
  pki = buildPki();
  lookAlike = buildPki(); // the same DNs, other keys (keycloak#52801)
  crl = await startHttpServer();
  const issue = (cn: string, serial: number, extensions: ExtensionSpec[] = profile(), dates: { notBefore?: Date; notAfter?: Date } = {}) => pki.issue({ cn, serial, extensions, ...dates });
  cert.exact = issue("svc-exact", 5001);
  cert.regex = issue("svc-regex", 5002);
  cert.dns = issue("svc-dns", 5003, profile(ext.san([{ dns: "svc.example.org" }])));
  cert.uri = issue("svc-spiffe", 5004, profile(ext.san([{ uri: "spiffe://example.org/ns/prod/sa/billing" }])));
  cert.ip = issue("svc-ip", 5005, profile(ext.san([{ ip: "10.0.0.7" }])));
  cert.email = issue("svc-mail", 5006, profile(ext.san([{ email: "robot@Example.ORG" }])));
  cert.rfc = issue("svc-rfc", 5007);
  cert.expired = issue("svc-exact", 5008, profile(), { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
  cert.revoked = issue("svc-exact", 5009);
  cert.other = issue("someone-else", 5010, profile(ext.san([{ dns: "other.example.org" }, { uri: "spiffe://example.org/ns/prod/sa/other" }, { ip: "10.0.0.8" }, { email: "other@example.org" }])));
  cert.lookAlike = lookAlike.issue({ cn: "svc-pinned", serial: 5011, extensions: profile() });
  cert.pinned = issue("svc-pinned", 5012);
  cert.bound = issue("webapp-user", 5013);
  selfSigned = selfSignedCert("self-signed-svc");
  selfSignedPem = selfSignedCert("self-signed-pem");
  crl.routes.set("/i.crl", intermediateCrl(pki, { revoked: [{ serial: 5009 }] }));

  const res = await server.admin("POST", "/admin/realms", {
    realm: REALM,
    clients: [
      service("kc-exact", { "x509.subjectdn": "EMAILADDRESS=svc-exact@localhost,CN=svc-exact,OU=Keycloak,O=Red Hat,L=Boston,ST=MA,C=US", "x509.allow.regex.pattern.comparison": "false" }),
      service("kc-regex", { "x509.subjectdn": "(.*?)CN=svc-regex, OU=Keycloak(.*?)" }),
      service("san-dns", { tls_client_auth_san_dns: "SVC.example.org" }, { tokenEndpointAuthMethod: "tls_client_auth" }),
      service("san-uri", { tls_client_auth_san_uri: "spiffe://example.org/ns/prod/sa/billing" }),
      service("san-ip", { tls_client_auth_san_ip: "10.0.0.7" }),
      service("san-email", { tls_client_auth_san_email: "robot@example.org" }),
      service("rfc-dn", { tls_client_auth_subject_dn: "emailAddress=SVC-RFC@localhost, cn=SVC-RFC, ou=keycloak, o=red  hat, l=boston, st=ma, c=us" }),
      service("pinned", { "x509.subjectdn": "(.*?)CN=svc-pinned,(.*?)", "x509.issuer.sha256": pki.intermediate.cert.sha256 }),
      service("ca-dn", { "x509.subjectdn": "(.*?)CN=svc-pinned,(.*?)", "x509.casubjectdn": "EMAILADDRESS=contact@keycloak.org,CN=Keycloak Intermediate CA,OU=Keycloak,O=Red Hat,ST=MA,C=US" }),
      service("self-signed", {}, { tokenEndpointAuthMethod: "self_signed_tls_client_auth", jwks: { keys: [{ x5c: [Buffer.from(selfSigned.der).toString("base64")] }] } }),
      service("self-signed-pem", { "x509.certificate": selfSignedPem.pem }, { tokenEndpointAuthMethod: "self_signed_tls_client_auth" }),
      { clientId: "webapp", secret: "webapp-secret", redirectUris: [REDIRECT], attributes: { "tls.client.certificate.bound.access.tokens": "true" } },
      { clientId: "script", secret: "script-secret", directAccessGrantsEnabled: true, attributes: { "tls.client.certificate.bound.access.tokens": "true" } },
    ],
    users: [{ username: "alice", email: "alice@example.org", credentials: [{ type: "password", value: "alice-password" }] }],
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const x509 = await server.admin("PUT", `/admin/realms/${REALM}/x509`, {
    // The look-alike CA is trusted too: only a fingerprint pin tells the two apart.
    trustAnchors: [pki.root.pem, lookAlike.root.pem],
  });
  expect(x509.status, await x509.clone().text()).toBe(200);
  // A realm whose direct-grant validation checks the CA's CRL: its certificate clients are checked the same way.
  const revoking = await server.admin("POST", "/admin/realms", {
    realm: "revoking",
    clients: [service("kc-exact", { "x509.subjectdn": "(.*?)CN=svc-exact,(.*?)" })],
    x509: {
      directGrant: { enabled: false, config: { "x509-cert-auth.crl-checking-enabled": "true", "x509-cert-auth.crl-relative-path": `${crl.base}/i.crl` } },
      trustAnchors: [pki.root.pem],
    },
  });
  expect(revoking.status, await revoking.clone().text()).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
  await crl?.close();
});

describe("tls_client_auth: each way to name the client's certificate", () => {
  it.each([
    ["kc-exact", "exact", "Keycloak's subject DN without regex: compared as X.500 names (spacing does not matter)"],
    ["kc-regex", "regex", "Keycloak's regex (the default when the flag is absent): a full match on the legacy rendering"],
    ["san-dns", "dns", "SAN dNSName (DNS names compare without case)"],
    ["san-uri", "uri", "SAN URI: a SPIFFE ID"],
    ["san-ip", "ip", "SAN IP address, compared as an address"],
    ["san-email", "email", "SAN rfc822Name (the domain without case)"],
    ["rfc-dn", "rfc", "RFC 8705 tls_client_auth_subject_dn: distinguishedNameMatch (case and spaces ignored)"],
    ["pinned", "pinned", "a client pinned to its issuing CA by fingerprint"],
  ])("%s accepts its certificate (%s): %s", async (clientId, which) => {
    const c = cert[which] as BuiltCert;
    const r = await clientCredentials(present(c), clientId);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const claims = JSON.parse(Buffer.from((r.body.access_token as string).split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
    // Bound to the certificate by default for a client that authenticates with one.
    expect(claims).toMatchObject({ azp: clientId, cnf: { "x5t#S256": thumbprint(c) } });
  });

  it.each(["kc-exact", "kc-regex", "san-dns", "san-uri", "san-ip", "san-email", "rfc-dn"])("%s refuses another certificate of the same CA: 401 invalid_client naming the class", async (clientId) => {
    const r = await clientCredentials(present(cert.other as BuiltCert), clientId);
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("invalid_client");
    expect(r.body.error_description).toMatch(/^Client certificate does not match the client's registered (subject DN|DNS name|URI|IP address|e-mail address)$/);
  });

  it("Keycloak's regex is case-sensitive and must match the whole rendering", async () => {
    const res = await server.admin("POST", `/admin/realms/${REALM}/clients`, service("kc-regex-partial", { "x509.subjectdn": "CN=svc-regex" }));
    expect(res.status).toBe(201);
    expect((await clientCredentials(present(cert.regex as BuiltCert), "kc-regex-partial")).status).toBe(401);
    const lower = await server.admin("POST", `/admin/realms/${REALM}/clients`, service("kc-regex-case", { "x509.subjectdn": "(.*?)cn=svc-regex(.*?)" }));
    expect(lower.status).toBe(201);
    expect((await clientCredentials(present(cert.regex as BuiltCert), "kc-regex-case")).status).toBe(401);
  });

  it("no certificate: 401 invalid_client, Client certificate missing", async () => {
    expect(await clientCredentials(server, "kc-exact")).toEqual({ status: 401, body: { error: "invalid_client", error_description: "Client certificate missing" } });
  });

  it("an expired certificate with the right subject: 401, the validation's reason", async () => {
    const r = await clientCredentials(present(cert.expired as BuiltCert), "kc-exact");
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: "invalid_client", error_description: expect.stringMatching(/^Client certificate not valid: .*expired/) });
  });

  it("a revoked certificate with the right subject (the realm's CRL): 401; one not revoked passes the same check", async () => {
    const at = (c: BuiltCert) => present(c).fetch("/realms/revoking/protocol/openid-connect/token", form({ grant_type: "client_credentials", client_id: "kc-exact" }));
    expect((await at(cert.exact as BuiltCert)).status).toBe(200);
    const res = await at(cert.revoked as BuiltCert);
    const r = { status: res.status, body: (await res.json()) as Record<string, unknown> };
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: "invalid_client", error_description: expect.stringMatching(/^Client certificate not valid: .*revoked/i) });
  });

  it("a look-alike CA with the same DN: the fingerprint pin refuses it, a CA subject DN alone does not tell them apart", async () => {
    const viaLookAlike = present(cert.lookAlike as BuiltCert, lookAlike);
    expect(await clientCredentials(viaLookAlike, "pinned")).toEqual({ status: 401, body: { error: "invalid_client", error_description: "Client certificate not issued by a CA this client accepts" } });
    const byDn = await clientCredentials(viaLookAlike, "ca-dn");
    expect(byDn.status, JSON.stringify(byDn.body)).toBe(200);
    expect((await clientCredentials(present(cert.pinned as BuiltCert), "ca-dn")).status).toBe(200);
  });

  it("a certificate of a CA the realm does not trust: 401", async () => {
    const stranger = buildPki();
    const c = stranger.issue({ cn: "svc-regex", serial: 5002, extensions: profile() });
    const r = await clientCredentials(present(c, stranger), "kc-regex");
    expect(r).toMatchObject({ status: 401, body: { error: "invalid_client", error_description: expect.stringMatching(/^Client certificate not valid/) } });
  });

  it("a secret sent by a certificate client is refused, and a certificate client has no secret to regenerate", async () => {
    const r = await clientCredentials(present(cert.exact as BuiltCert), "kc-exact", { client_secret: "guess" });
    expect(r).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    const list = (await (await server.admin("GET", `/admin/realms/${REALM}/clients?clientId=kc-exact`)).json()) as { id: string; secretSet: boolean; clientAuthenticatorType: string }[];
    expect(list[0]).toMatchObject({ secretSet: false, clientAuthenticatorType: "client-x509" });
    expect((await server.admin("POST", `/admin/realms/${REALM}/clients/${list[0]?.id}/client-secret`)).status).toBe(400);
  });

  it("a success is a CLIENT_LOGIN with the method and the certificate", async () => {
    expect((await clientCredentials(present(cert.ip as BuiltCert), "san-ip")).status).toBe(200);
    const events = (await (await server.admin("GET", `/admin/realms/${REALM}/events?type=CLIENT_LOGIN&client=san-ip`)).json()) as { details: Record<string, string> }[];
    expect(events[0]?.details).toMatchObject({ grant_type: "client_credentials", auth_method: "tls_client_auth", x509_cert_serial_number: "5005" });
  });

  it("each refusal is a CLIENT_LOGIN_ERROR with the certificate's serial, subject and issuer", async () => {
    await clientCredentials(present(cert.other as BuiltCert), "san-dns");
    const res = await server.admin("GET", `/admin/realms/${REALM}/events?type=CLIENT_LOGIN_ERROR&client=san-dns`);
    const events = (await res.json()) as { error: string; details: Record<string, string> }[];
    expect(events[0]).toMatchObject({
      error: "invalid_client_credentials",
      details: {
        auth_method: "tls_client_auth", reason: "SUBJECT_MISMATCH", x509_cert_serial_number: "5010",
        x509_cert_subject_distinguished_name: expect.stringContaining("CN=someone-else"), x509_cert_issuer_distinguished_name: expect.stringContaining("CN=Keycloak Intermediate CA"),
      },
    });
  });
});

describe("self_signed_tls_client_auth", () => {
  it("the certificate registered in jwks (x5c) authenticates, without path validation", async () => {
    const r = await clientCredentials(server.withCertificate(selfSigned.pem, keyPem(selfSigned.key)), "self-signed");
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it("the certificate in the x509.certificate attribute (PEM) authenticates", async () => {
    expect((await clientCredentials(server.withCertificate(selfSignedPem.pem, keyPem(selfSignedPem.key)), "self-signed-pem")).status).toBe(200);
  });

  it("another self-signed certificate with the same subject: 401", async () => {
    const twin = selfSignedCert("self-signed-svc");
    expect(await clientCredentials(server.withCertificate(twin.pem, keyPem(twin.key)), "self-signed")).toEqual({
      status: 401, body: { error: "invalid_client", error_description: "Client certificate is not one registered for this client" },
    });
  });
});

describe("certificate-bound tokens on every grant", () => {
  it("the code flow of a secret client with bound tokens: bound access and refresh tokens; refresh needs the same certificate", async () => {
    const mine = present(cert.bound as BuiltCert);
    const viaCert = ((url: string, options: Parameters<typeof fetch>[1]) => fetch(url, { ...options, dispatcher: mine.dispatcher })) as unknown as oidc.CustomFetch;
    const config = await oidc.discovery(new URL(server.issuer(REALM)), "webapp", undefined, oidc.ClientSecretBasic("webapp-secret"), { [oidc.customFetch]: viaCert });
    // RFC 8705 §5: a client doing mutual TLS uses the aliases (here the same URLs: one listener).
    const browser = new Browser(server.dispatcher);
    const req = await authorizationRequest(config, REDIRECT);
    const page = await browser.navigate(req.url, REDIRECT);
    const login = formOf(page, "kc-form-login");
    const done = await browser.navigate(login.action, REDIRECT, { form: { ...login.fields, username: "alice", password: "alice-password" } });
    expect(done.location).toMatch(/^https:\/\/app\.example\/callback\?/);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.location as string), req.checks);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
    expect(claims.cnf).toEqual({ "x5t#S256": thumbprint(cert.bound as BuiltCert) });

    const refresh = (client: Pick<MtlsClient, "fetch">) => client.fetch(TOKEN, form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token as string, client_id: "webapp", client_secret: "webapp-secret" }));
    const without = await refresh(server);
    expect(without.status).toBe(401);
    expect(await without.json()).toEqual({ error: "unauthorized_client", error_description: "Client certificate missing, or its thumbprint and one in the refresh token did NOT match" });
    expect((await refresh(present(cert.other as BuiltCert))).status).toBe(401);
    const again = await refresh(mine);
    expect(again.status, await again.clone().text()).toBe(200);
  });

  it("the password grant of a client with bound tokens: bound to the request's certificate; without one, Keycloak's 400", async () => {
    const grant = (client: Pick<MtlsClient, "fetch">) => client.fetch(TOKEN, form({ grant_type: "password", client_id: "script", client_secret: "script-secret", username: "alice", password: "alice-password" }));
    const res = await grant(present(cert.bound as BuiltCert));
    const body = (await res.json()) as { access_token: string };
    expect(res.status).toBe(200);
    const introspect = await server.fetch(`${TOKEN}/introspect`, form({ client_id: "script", client_secret: "script-secret", token: body.access_token }));
    expect(await introspect.json()).toMatchObject({ active: true, cnf: { "x5t#S256": thumbprint(cert.bound as BuiltCert) } });
    const none = await grant(server);
    expect(none.status).toBe(400);
    expect(await none.json()).toEqual({ error: "invalid_request", error_description: "Client Certification missing for MTLS HoK Token Binding" });
  });

  it("a bound client-credentials token is accepted at userinfo-like resources only with its certificate (introspection shows cnf)", async () => {
    const r = await clientCredentials(present(cert.dns as BuiltCert), "san-dns");
    const introspect = await present(cert.dns as BuiltCert).fetch(`${TOKEN}/introspect`, form({ client_id: "san-dns", token: r.body.access_token as string }));
    expect(introspect.status).toBe(200);
    expect(await introspect.json()).toMatchObject({ active: true, client_id: "san-dns", cnf: { "x5t#S256": thumbprint(cert.dns as BuiltCert) } });
  });

  it("a client may turn binding off (tls.client.certificate.bound.access.tokens false)", async () => {
    const res = await server.admin("POST", `/admin/realms/${REALM}/clients`, service("unbound", { tls_client_auth_san_dns: "svc.example.org", "tls.client.certificate.bound.access.tokens": "false" }));
    expect(res.status).toBe(201);
    const r = await clientCredentials(present(cert.dns as BuiltCert), "unbound");
    expect(r.status).toBe(200);
    const claims = JSON.parse(Buffer.from((r.body.access_token as string).split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
    expect(claims.cnf).toBeUndefined();
  });
});

describe("discovery and openid-client", () => {
  it("advertises both certificate methods and bound tokens", async () => {
    const meta = (await (await server.fetch(`/realms/${REALM}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_basic", "tls_client_auth", "self_signed_tls_client_auth"]));
    expect(meta.tls_client_certificate_bound_access_tokens).toBe(true);
  });

  it("openid-client (TlsClientAuth) gets a client-credentials token over mutual TLS and introspects it", async () => {
    const mine = present(cert.uri as BuiltCert);
    const viaCert = ((url: string, options: Parameters<typeof fetch>[1]) => fetch(url, { ...options, dispatcher: mine.dispatcher })) as unknown as oidc.CustomFetch;
    const config = await oidc.discovery(new URL(server.issuer(REALM)), "san-uri", undefined, oidc.TlsClientAuth(), { [oidc.customFetch]: viaCert });
    const tokens = await oidc.clientCredentialsGrant(config, { scope: "profile" });
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, client_id: "san-uri", cnf: { "x5t#S256": thumbprint(cert.uri as BuiltCert) } });
  });
});

describe("the admin API validates certificate clients (400 naming the field)", () => {
  const create = (body: Record<string, unknown>) => server.admin("POST", `/admin/realms/${REALM}/clients`, body);
  it.each([
    [{ clientId: "mix", clientAuthenticatorType: "client-x509", secret: "s", attributes: { tls_client_auth_san_dns: "a.example" } }, "secret"],
    [{ clientId: "mix2", clientAuthenticatorType: "client-secret", tokenEndpointAuthMethod: "tls_client_auth" }, "clientAuthenticatorType"],
    [{ clientId: "mix3", clientAuthenticatorType: "client-x509", tokenEndpointAuthMethod: "client_secret_basic" }, "tokenEndpointAuthMethod"],
    [{ clientId: "two", clientAuthenticatorType: "client-x509", attributes: { tls_client_auth_san_dns: "a.example", tls_client_auth_san_uri: "spiffe://a/b" } }, "attributes.tls_client_auth_san_uri"],
    [{ clientId: "none", clientAuthenticatorType: "client-x509" }, "attributes.x509.subjectdn"],
    [{ clientId: "regex", clientAuthenticatorType: "client-x509", attributes: { "x509.subjectdn": "(unclosed" } }, "attributes.x509.subjectdn"],
    [{ clientId: "dn", clientAuthenticatorType: "client-x509", attributes: { "x509.subjectdn": "not a dn", "x509.allow.regex.pattern.comparison": "false" } }, "attributes.x509.subjectdn"],
    [{ clientId: "ip", clientAuthenticatorType: "client-x509", attributes: { tls_client_auth_san_ip: "10.0.0.300" } }, "attributes.tls_client_auth_san_ip"],
    [{ clientId: "pin", clientAuthenticatorType: "client-x509", attributes: { tls_client_auth_san_dns: "a.example", "x509.issuer.sha256": "abc" } }, "attributes.x509.issuer.sha256"],
    [{ clientId: "ss", tokenEndpointAuthMethod: "self_signed_tls_client_auth" }, "jwks"],
    [{ clientId: "ss2", tokenEndpointAuthMethod: "self_signed_tls_client_auth", jwks: { keys: [{ x5c: ["bm90IGEgY2VydA=="] }] } }, "jwks"],
    [{ clientId: "pub", clientAuthenticatorType: "client-x509", publicClient: true, attributes: { tls_client_auth_san_dns: "a.example" } }, "publicClient"],
  ])("%j → 400 on %s", async (body, field) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    const out = (await res.json()) as { error: string; error_description?: string; fields?: string[] };
    expect(JSON.stringify(out)).toContain(`${field}:`);
    expect((await server.admin("GET", `/admin/realms/${REALM}/clients?clientId=${body.clientId}`)).status).toBe(200);
    expect(await (await server.admin("GET", `/admin/realms/${REALM}/clients?clientId=${body.clientId}`)).json()).toEqual([]);
  });

  it("export carries the certificate fields, and the export imports", async () => {
    const exported = await runCli(server.db, ["realm", "export", REALM]);
    expect(exported.code, exported.stderr).toBe(0);
    const rep = JSON.parse(exported.stdout) as { clients: Record<string, unknown>[] };
    expect(rep.clients.find((c) => c.clientId === "kc-exact")).toMatchObject({
      clientAuthenticatorType: "client-x509", tokenEndpointAuthMethod: "tls_client_auth",
      attributes: { "x509.subjectdn": expect.stringContaining("CN=svc-exact"), "x509.allow.regex.pattern.comparison": "false" },
    });
    expect(rep.clients.find((c) => c.clientId === "kc-exact")).not.toHaveProperty("secretHash");
    expect(rep.clients.find((c) => c.clientId === "self-signed")).toMatchObject({ tokenEndpointAuthMethod: "self_signed_tls_client_auth", jwks: { keys: [{ x5c: [expect.any(String)] }] } });
    const file = path.join(server.db.dataDir, "services-export.json");
    fs.writeFileSync(file, JSON.stringify({ ...rep, realm: "services-copy" }));
    const imported = await runCli(server.db, ["realm", "import", file]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ generatedSecrets: expect.not.objectContaining({ "kc-exact": expect.anything() }) });
  });
});

describe("a Keycloak realm export with a client-x509 client", () => {
  it("imports with --keycloak and the client authenticates with its certificate", async () => {
    const dir = fs.mkdtempSync(path.join(server.db.dataDir, "kc-mtls-"));
    fs.writeFileSync(path.join(dir, "root.pem"), pki.root.pem);
    fs.writeFileSync(path.join(dir, "realm-export.json"), JSON.stringify({
      realm: "kc-services",
      enabled: true,
      clients: [{
        clientId: "billing", enabled: true, publicClient: false, protocol: "openid-connect", clientAuthenticatorType: "client-x509",
        serviceAccountsEnabled: true, standardFlowEnabled: false, secret: "**********",
        attributes: { "x509.subjectdn": "(.*?)CN=svc-regex(.*?)", "x509.allow.regex.pattern.comparison": "true", "tls.client.certificate.bound.access.tokens": "true" },
      }],
      users: [{ username: "service-account-billing", enabled: true, serviceAccountClientId: "billing" }],
    }));
    const r = await runCli(server.db, ["realm", "import", "--keycloak", path.join(dir, "realm-export.json"), "--trust", path.join(dir, "root.pem")]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { clients: { created: string[] }; generatedSecrets: Record<string, string>; notes: string[] };
    expect(summary.clients.created).toEqual(["billing"]);
    expect(summary.generatedSecrets).toEqual({});
    const ok = await present(cert.regex as BuiltCert).fetch("/realms/kc-services/protocol/openid-connect/token", form({ grant_type: "client_credentials", client_id: "billing" }));
    expect(ok.status, await ok.clone().text()).toBe(200);
    const refused = await present(cert.other as BuiltCert).fetch("/realms/kc-services/protocol/openid-connect/token", form({ grant_type: "client_credentials", client_id: "billing" }));
    expect(refused.status).toBe(401);
  });
});
