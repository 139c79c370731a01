// GET /metrics (issue #12, item 8), scraped from a real server while real clients log in: a certificate direct grant
// against a real CRL server and a real OCSP responder (openssl ocsp), a revoked certificate, a wrong password, client
// credentials, an LDAP realm on a real slapd that then goes away. Each family must move, labels stay bounded (no
// client-chosen value becomes a series), and the endpoint needs its token on the main port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetch } from "undici";
import type { BuiltCert } from "../helpers/certs.ts";
import { buildPki, intermediateCrl, keyPem, type Pki } from "../helpers/pki.ts";
import { startHttpServer, startOcspResponder, startSlapd, type CrlServer, type OcspResponder, type Slapd } from "../helpers/revocation-servers.ts";
import { ADMIN_PASSWORD, startTestServer, type MtlsClient, type TestServer } from "../helpers/server.ts";

const TOKEN = "metrics-scrape-token-0123456789";
const REALM = "metered";
const LDAP_REALM = "metered-ldap";
const PEOPLE = "ou=people,dc=example,dc=org";
const CLIENT = { client_id: "resource-owner", client_secret: "secret" };

let server: TestServer;
let crl: CrlServer;
let ocsp: OcspResponder;
let slapd: Slapd;
let pki: Pki;
let good: BuiltCert;
let revoked: BuiltCert;

/** One sample per series: `name{a="x",b="y"}` → value. */
type Samples = Map<string, { name: string; labels: Record<string, string>; value: number }>;

function parse(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    out.set(`${m[1]}{${m[2] ?? ""}}`, { name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum over the series of `name` whose labels include `labels`. */
function total(s: Samples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const x of s.values()) if (x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)) sum += x.value;
  return sum;
}

async function scrape(): Promise<{ text: string; samples: Samples }> {
  const res = await server.fetch("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parse(text) };
}

/** How much each of `checks` moved across `action`. */
async function moved(action: () => Promise<unknown>, checks: Record<string, [string, Record<string, string>?]>): Promise<Record<string, number>> {
  const before = (await scrape()).samples;
  await action();
  const after = (await scrape()).samples;
  return Object.fromEntries(Object.entries(checks).map(([k, [name, labels]]) => [k, total(after, name, labels) - total(before, name, labels)]));
}

const as = (c: BuiltCert): MtlsClient => server.withCertificate(c.pem + pki.intermediate.pem, keyPem(c.key));
async function token(realm: string, client: Pick<MtlsClient, "fetch">, params: Record<string, string>) {
  const res = await client.fetch(`/realms/${realm}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams(params) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}
const certificateGrant = (c: BuiltCert) => token(REALM, as(c), { grant_type: "password", ...CLIENT, username: "", password: "" });

async function setX509(config: Record<string, string>) {
  const res = await server.admin("PUT", `/admin/realms/${REALM}/x509`, {
    directGrant: { enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's e-mail", "x509-cert-auth.mapper-selection": "Username or Email", ...config } },
    trustAnchors: [pki.root.pem],
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

beforeAll(async () => {
  pki = buildPki();
  good = pki.leaf;
  revoked = pki.issue({ cn: "revoked-user", serial: 666 });
  [server, crl, ocsp, slapd] = await Promise.all([
    startTestServer({ env: { IDP_METRICS_TOKEN: TOKEN } }),
    startHttpServer(),
    startOcspResponder({ ca: pki.intermediate, signer: pki.intermediate, entries: [{ serial: 4105, status: "V" }], nextUpdateMinutes: 60 }),
    startSlapd(),
  ]);
  crl.routes.set("/i.crl", intermediateCrl(pki, { revoked: [{ serial: 666 }] }));
  crl.routes.set("/down.crl", 503);
  const created = await server.admin("POST", "/admin/realms", {
    realm: REALM,
    clients: [{ clientId: CLIENT.client_id, secret: CLIENT.client_secret, directAccessGrantsEnabled: true, serviceAccountsEnabled: true }],
    users: [
      { username: "test-user@localhost", email: "test-user@localhost" },
      { username: "revoked-user@localhost", email: "revoked-user@localhost" },
    ],
  });
  expect(created.status).toBe(201);
  await setX509({
    "x509-cert-auth.crl-checking-enabled": "true", "x509-cert-auth.crl-relative-path": `${crl.base}/i.crl`,
    "x509-cert-auth.ocsp-checking-enabled": "true", "x509-cert-auth.ocsp-responder-uri": ocsp.url,
  });
  slapd.add(`dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\ndn: uid=alice,${PEOPLE}\nobjectClass: inetOrgPerson\nuid: alice\ncn: alice\nsn: Liddell\nmail: alice@example.org\nuserPassword: not-this-one\n`);
  const ldapRealm = await server.admin("POST", "/admin/realms", {
    realm: LDAP_REALM,
    clients: [{ clientId: CLIENT.client_id, secret: CLIENT.client_secret, directAccessGrantsEnabled: true }],
    ldap: { connectionUrls: [slapd.url], bindDn: slapd.admin.dn, bindCredential: slapd.admin.password, usersDn: PEOPLE, userObjectClasses: ["inetOrgPerson"], connectTimeoutMs: 1000, timeoutMs: 1000 },
  });
  expect(ldapRealm.status, await ldapRealm.clone().text()).toBe(201);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
  await Promise.all([crl?.close(), ocsp?.stop(), slapd?.stop()]);
});

describe("GET /metrics on the main port", () => {
  it("needs IDP_METRICS_TOKEN as a bearer token: 401 without it or with another", async () => {
    for (const authorization of [undefined, "Bearer not-the-token-at-all-000000", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await server.fetch("/metrics", { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
      expect(await res.text()).not.toContain("keycloak_user_events_total");
    }
    const res = await server.fetch("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("has the process's metrics, the database pool, the audit log's queue", async () => {
    const { samples } = await scrape();
    expect(total(samples, "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
    expect([...samples.values()].some((s) => s.name.startsWith("nodejs_eventloop_lag"))).toBe(true);
    expect(total(samples, "x509idp_db_connections", { state: "max" })).toBeGreaterThanOrEqual(1);
    expect(total(samples, "x509idp_db_connections", { state: "open" })).toBeGreaterThanOrEqual(1);
    expect(samples.has("x509idp_event_queue_depth{}")).toBe(true);
    if (server.db.kind === "sqlite") expect(total(samples, "x509idp_sqlite_wal_bytes")).toBeGreaterThan(0);
  });
});

describe("logins, token requests and latency", () => {
  it("a certificate direct grant, a revoked certificate, a wrong password and client credentials each move their series", async () => {
    const d = await moved(async () => {
      expect((await certificateGrant(good)).status).toBe(200);
      expect((await certificateGrant(revoked)).status).toBe(401);
      expect((await token("master", server, { grant_type: "password", client_id: "admin-cli", username: "admin", password: "wrong" })).status).toBe(400);
      expect((await token("master", server, { grant_type: "password", client_id: "admin-cli", username: "admin", password: ADMIN_PASSWORD })).status).toBe(200);
      expect((await token(REALM, server, { grant_type: "client_credentials", ...CLIENT })).status).toBe(200);
    }, {
      kcLogin: ["keycloak_user_events_total", { realm: REALM, event: "login", error: "" }],
      kcLoginError: ["keycloak_user_events_total", { realm: REALM, event: "login_error" }],
      kcMasterError: ["keycloak_user_events_total", { realm: "master", event: "login_error", error: "invalid_user_credentials" }],
      kcClient: ["keycloak_user_events_total", { realm: REALM, event: "client_login", error: "" }],
      certOk: ["x509idp_logins_total", { realm: REALM, flow: "direct_grant", method: "certificate", outcome: "success", reason: "" }],
      certError: ["x509idp_logins_total", { realm: REALM, flow: "direct_grant", method: "certificate", outcome: "error" }],
      revokedCode: ["x509idp_certificate_login_failures_total", { realm: REALM, flow: "direct_grant", code: "CERT_REVOKED" }],
      passwordError: ["x509idp_logins_total", { realm: "master", flow: "direct_grant", method: "password", outcome: "error", reason: "invalid_user_credentials" }],
      passwordOk: ["x509idp_logins_total", { realm: "master", flow: "direct_grant", method: "password", outcome: "success" }],
      client: ["x509idp_logins_total", { realm: REALM, flow: "client", method: "client", outcome: "success" }],
      tokenPassword: ["x509idp_token_requests_total", { realm: REALM, grant_type: "password", outcome: "success" }],
      tokenPasswordError: ["x509idp_token_requests_total", { realm: REALM, grant_type: "password", outcome: "invalid_request" }],
      tokenClient: ["x509idp_token_requests_total", { realm: REALM, grant_type: "client_credentials", outcome: "success" }],
      tokenMasterError: ["x509idp_token_requests_total", { realm: "master", grant_type: "password", outcome: "invalid_grant" }],
      latency200: ["http_server_requests_seconds_count", { method: "POST", uri: "/realms/{realm}/protocol/openid-connect/token", status: "200", outcome: "SUCCESS" }],
      latency4xx: ["http_server_requests_seconds_count", { method: "POST", uri: "/realms/{realm}/protocol/openid-connect/token", outcome: "CLIENT_ERROR" }],
      stored: ["x509idp_events_stored_total"],
    });
    expect(d).toEqual({
      kcLogin: 1, kcLoginError: 1, kcMasterError: 1, kcClient: 1, certOk: 1, certError: 1, revokedCode: 1, passwordError: 1, passwordOk: 1, client: 1,
      tokenPassword: 1, tokenPasswordError: 1, tokenClient: 1, tokenMasterError: 1, latency200: 3, latency4xx: 2, stored: d.stored,
    });
    expect(d.stored).toBeGreaterThanOrEqual(5);
  });

  it("labels stay bounded: a client's grant type, path or realm name never becomes a series", async () => {
    expect((await token(REALM, server, { grant_type: "urn:evil:grant-type-series", ...CLIENT })).status).toBe(400);
    await server.fetch("/realms/no-such-realm-for-series/protocol/openid-connect/token", { method: "POST" });
    await server.fetch("/some/path/for-series?x=1");
    await server.fetch(`/realms/${REALM}/protocol/openid-connect/auth/for-series`);
    const { text, samples } = await scrape();
    expect(text).not.toContain("for-series");
    expect(text).not.toContain("urn:evil");
    expect(total(samples, "x509idp_token_requests_total", { realm: REALM, grant_type: "other", outcome: "unsupported_grant_type" })).toBe(1);
    expect(total(samples, "http_server_requests_seconds_count", { uri: "other", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(total(samples, "http_server_requests_seconds_count", { uri: "/realms/{realm}/*" })).toBeGreaterThanOrEqual(1);
    const uris = new Set([...samples.values()].filter((s) => s.name === "http_server_requests_seconds_count").map((s) => s.labels.uri));
    for (const u of uris) expect(u).toMatch(/^(other|\/admin\/\*|\/metrics|\/health(\/live|\/ready)?|\/resources\/\*|\/realms\/\{realm\}(\/.*)?)$/);
  });
});

describe("revocation sources", () => {
  it("a fetch on first use, then cache hits; answer ages; a failing CRL source remembered", async () => {
    server.started.services.revocation.crlCache.clear();
    server.started.services.revocation.ocspCache.clear();
    const first = await moved(() => certificateGrant(good), {
      crlFetched: ["x509idp_revocation_fetches_total", { source: "crl", outcome: "ok" }],
      ocspFetched: ["x509idp_revocation_fetches_total", { source: "ocsp", outcome: "ok" }],
      crlMiss: ["x509idp_revocation_cache_total", { source: "crl", result: "miss" }],
      ocspMiss: ["x509idp_revocation_cache_total", { source: "ocsp", result: "miss" }],
      crlSeconds: ["x509idp_revocation_fetch_seconds_count", { source: "crl" }],
      ocspSeconds: ["x509idp_revocation_fetch_seconds_count", { source: "ocsp" }],
      crlAge: ["x509idp_revocation_answer_age_seconds_count", { source: "crl" }],
      ocspAge: ["x509idp_revocation_answer_age_seconds_count", { source: "ocsp" }],
    });
    expect(first).toEqual({ crlFetched: 1, ocspFetched: 1, crlMiss: 1, ocspMiss: 1, crlSeconds: 1, ocspSeconds: 1, crlAge: 1, ocspAge: 1 });

    const again = await moved(() => certificateGrant(good), {
      fetched: ["x509idp_revocation_fetches_total"],
      crlHit: ["x509idp_revocation_cache_total", { source: "crl", result: "hit" }],
      ocspHit: ["x509idp_revocation_cache_total", { source: "ocsp", result: "hit" }],
      crlAge: ["x509idp_revocation_answer_age_seconds_count", { source: "crl" }],
    });
    expect(again).toEqual({ fetched: 0, crlHit: 1, ocspHit: 1, crlAge: 1 });

    await setX509({ "x509-cert-auth.crl-checking-enabled": "true", "x509-cert-auth.crl-relative-path": `${crl.base}/down.crl` });
    try {
      const failing = await moved(async () => {
        expect((await certificateGrant(good)).status).toBe(401);
        expect((await certificateGrant(good)).status).toBe(401);
      }, {
        failed: ["x509idp_revocation_fetches_total", { source: "crl", outcome: "failed" }],
        remembered: ["x509idp_revocation_cache_total", { source: "crl", result: "remembered_failure" }],
        code: ["x509idp_certificate_login_failures_total", { realm: REALM, code: "CRL_UNAVAILABLE" }],
      });
      expect(failing).toEqual({ failed: 1, remembered: 1, code: 2 });
    } finally {
      await setX509({
        "x509-cert-auth.crl-checking-enabled": "true", "x509-cert-auth.crl-relative-path": `${crl.base}/i.crl`,
        "x509-cert-auth.ocsp-checking-enabled": "true", "x509-cert-auth.ocsp-responder-uri": ocsp.url,
      });
    }
  });
});

describe("LDAP", () => {
  const ldapLogin = () => token(LDAP_REALM, server, { grant_type: "password", ...CLIENT, username: "alice", password: "wrong" });

  it("availability and latency per realm: up while slapd answers, down once it is gone", async () => {
    const up = await moved(() => ldapLogin(), { ok: ["x509idp_ldap_request_seconds_count", { realm: LDAP_REALM, outcome: "ok" }] });
    expect(up.ok).toBeGreaterThanOrEqual(1);
    expect(total((await scrape()).samples, "x509idp_ldap_up", { realm: LDAP_REALM })).toBe(1);

    await slapd.kill();
    try {
      const down = await moved(async () => expect((await ldapLogin()).status).toBe(503), { unavailable: ["x509idp_ldap_request_seconds_count", { realm: LDAP_REALM, outcome: "unavailable" }] });
      expect(down.unavailable).toBeGreaterThanOrEqual(1);
      const { samples } = await scrape();
      expect(total(samples, "x509idp_ldap_up", { realm: LDAP_REALM })).toBe(0);
      expect(total(samples, "keycloak_user_events_total", { realm: LDAP_REALM, event: "ldap_unavailable" })).toBe(1);
    } finally {
      await slapd.start();
    }
  });
});
