// LDAP user federation against a real slapd (started here, loopback, throwaway database): password login by bind,
// certificate login with Username-or-Email, a custom attribute and the full certificate (DER and PEM), duplicates,
// unknown users, filter injection, precedence, refresh on login, disabled users, LDAPS / StartTLS with a CA bundle,
// failover, the admin API and `x509-idp ldap test`, and an outage (slow, then stopped) that fails LDAP logins
// within the timeout while local users keep working.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { ext, type BuiltCert } from "../helpers/certs.ts";
import { runCli } from "../helpers/cli.ts";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { freePort, sbin } from "../helpers/ports.ts";
import { startSlapd, type Slapd } from "../helpers/revocation-servers.ts";
import { startTestServer, type MtlsClient, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let slapd: Slapd;
let pki: Pki;
let db: Database;
let ldapCa: string;
const REALM = "fed";
const CLIENT = { client_id: "app", client_secret: "app-secret" };
const PEOPLE = "ou=people,dc=example,dc=org";

// Certificates: alice's is in LDAP as DER; carol's as PEM text; a twin of alice's (same serial and issuer, new key).
let alice: BuiltCert;
let aliceTwin: BuiltCert;
let carol: BuiltCert;

const ssha = (password: string) => execFileSync(sbin("slappasswd"), ["-s", password], { encoding: "utf8" }).trim();
const b64 = (der: Uint8Array) => Buffer.from(der).toString("base64");

function person(uid: string, extra: string[]): string {
  return [`dn: uid=${uid},${PEOPLE}`, "objectClass: inetOrgPerson", `uid: ${uid}`, `cn: ${uid}`, ...extra].join("\n");
}

/** A self-signed CA and a server certificate for 127.0.0.1, made by openssl (slapd's TLS). */
function ldapTlsMaterial(): { ca: string; cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "x509idp-ldaptls-"));
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=LDAP test CA");
  run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  const out = { ca: read("ca.crt"), cert: read("server.crt"), key: read("server.key") };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

const baseLdap = () => ({
  connectionUrls: [slapd.url],
  bindDn: slapd.admin.dn,
  bindCredential: slapd.admin.password,
  usersDn: PEOPLE,
  userObjectClasses: ["inetOrgPerson"],
  attributeMappers: [
    { name: "employeeNumber", ldapAttribute: "employeeNumber" },
    { name: "usercertificate", ldapAttribute: "userCertificate;binary", certificate: "der" },
    { name: "pemcertificate", ldapAttribute: "description", certificate: "pem" },
  ],
  disabledAttribute: "employeeType",
  disabledValues: ["disabled"],
  connectTimeoutMs: 1000,
  timeoutMs: 1000,
});

async function putLdap(body: Record<string, unknown>): Promise<void> {
  const res = await server.admin("PUT", `/admin/realms/${REALM}/ldap`, body);
  expect(res.status, await res.clone().text()).toBe(200);
}

async function setX509(config: Record<string, string>): Promise<void> {
  const res = await server.admin("PUT", `/admin/realms/${REALM}/x509`, { directGrant: { enabled: true, config }, trustAnchors: [pki.root.pem] });
  expect(res.status, await res.clone().text()).toBe(200);
}

const byName = { "x509-cert-auth.mapping-source-selection": "Subject's Common Name", "x509-cert-auth.mapper-selection": "Username or Email" };
const byAttribute = (source: string, attribute: string) => ({
  "x509-cert-auth.mapping-source-selection": source,
  "x509-cert-auth.mapper-selection": "Custom Attribute Mapper",
  "x509-cert-auth.mapper-selection.user-attribute-name": attribute,
});

const as = (c: BuiltCert): MtlsClient => server.withCertificate(c.pem + pki.intermediate.pem, keyPem(c.key));
const token = async (client: Pick<MtlsClient, "fetch">, params: Record<string, string>) => {
  const res = await client.fetch(`/realms/${REALM}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams({ grant_type: "password", scope: "openid profile email", ...CLIENT, ...params }) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};
const password = (username: string, pw: string) => token(server, { username, password: pw });
const certificate = (c: BuiltCert) => token(as(c), { username: "", password: "" });
const userinfo = async (accessToken: string, c?: BuiltCert) => {
  const res = await (c ? as(c) : server).fetch(`/realms/${REALM}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  return (await res.json()) as Record<string, string>;
};
const userRows = () => db.prisma.user.findMany({ where: { realm: { name: REALM } }, orderBy: { username: "asc" } });

beforeAll(async () => {
  const tls = ldapTlsMaterial();
  ldapCa = tls.ca;
  [server, slapd] = await Promise.all([startTestServer(), startSlapd({ tls: { cert: tls.cert, key: tls.key } })]);
  db = await openDatabase(server.db.url, { migrate: false });
  pki = buildPki();
  alice = pki.issue({ cn: "alice", serial: 1001 });
  aliceTwin = pki.issue({ cn: "alice", serial: 1001 });
  carol = pki.issue({ cn: "carol", serial: 3001 });
  const carolPem = carol.pem.trim().split("\n");
  slapd.add([
    `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people`,
    person("alice", ["sn: Liddell", "givenName: Alice", "mail: alice@example.org", "employeeNumber: 1001", `userPassword: ${ssha("wonderland")}`, `userCertificate;binary:: ${b64(alice.der)}`]),
    person("bob", ["sn: Builder", "mail: bob@example.org", "employeeNumber: 1002", `userPassword: ${ssha("can-we-fix-it")}`]),
    // PEM text with line breaks, as a directory holding PEM keeps it (LDIF base64 carries the newlines).
    person("carol", ["sn: Danvers", "mail: carol@example.org", `description:: ${Buffer.from(carolPem.join("\n")).toString("base64")}`]),
    person("dave", ["sn: Disabled", "employeeType: disabled", `userPassword: ${ssha("dave-pass")}`]),
    person("twin1", ["sn: One", "employeeNumber: 2000"]),
    person("twin2", ["sn: Two", "employeeNumber: 2000"]),
    person("shadow", ["sn: Shadow", "mail: shadow@example.org", `userPassword: ${ssha("ldap-shadow")}`]),
  ].join("\n\n") + "\n");
  const res = await server.admin("POST", "/admin/realms", {
    realm: REALM,
    clients: [{ clientId: CLIENT.client_id, secret: CLIENT.client_secret, directAccessGrantsEnabled: true }],
    users: [
      { username: "local-user", email: "local@example.org", credentials: [{ type: "password", value: "local-pass" }] },
      { username: "shadow", credentials: [{ type: "password", value: "local-shadow" }] },
      { username: "emp-local", attributes: { employeeNumber: ["1002"] } },
    ],
  });
  expect(res.status, await res.clone().text()).toBe(201);
  await putLdap(baseLdap());
});

afterAll(async () => {
  await db?.close();
  await server?.stop();
  await server?.db.drop();
  await slapd?.stop();
});

describe("users from LDAP", () => {
  it("password login binds as the user; the linked local record has no password and a stable sub", async () => {
    const ok = await password("alice", "wonderland");
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const info = await userinfo(ok.body.access_token as string);
    expect(info).toMatchObject({ preferred_username: "alice", email: "alice@example.org", given_name: "Alice", family_name: "Liddell" });
    const again = await password("ALICE@example.org", "wonderland");
    expect((await userinfo(again.body.access_token as string)).sub).toBe(info.sub);
    const row = (await userRows()).find((u) => u.username === "alice");
    expect(row).toMatchObject({ id: info.sub, federationLink: "ldap", passwordHash: null });
    expect(row?.ldapId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a wrong or empty password fails; the empty one never reaches LDAP", async () => {
    expect(await password("alice", "wrong")).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid user credentials" } });
    expect((await password("alice", "")).body.error_description).toBe("Missing parameter: password");
    const users = server.started.services.registry;
    const runtime = await users.get(REALM);
    const alice = await runtime!.users.findByUsername("alice");
    expect(await runtime!.users.verifyLdapPassword(alice!, "")).toBe(false);
  });

  it("a user disabled by the configured attribute is refused after the right password", async () => {
    expect(await password("dave", "dave-pass")).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Account disabled" } });
  });

  it("refreshes the profile from LDAP at every login, keeping the sub", async () => {
    const before = await userinfo((await password("bob", "can-we-fix-it")).body.access_token as string);
    slapd.modify(`dn: uid=bob,${PEOPLE}\nchangetype: modify\nreplace: sn\nsn: Builder-Renamed\n-\nreplace: mail\nmail: robert@example.org\n`);
    const after = await userinfo((await password("bob", "can-we-fix-it")).body.access_token as string);
    expect(after).toMatchObject({ sub: before.sub, family_name: "Builder-Renamed", email: "robert@example.org" });
    slapd.modify(`dn: uid=bob,${PEOPLE}\nchangetype: modify\nreplace: sn\nsn: Builder\n-\nreplace: mail\nmail: bob@example.org\n`);
  });

  it("filter injection finds nobody: *, )(, NUL and escapes are values, not filter syntax", async () => {
    for (const name of ["*", "a*", "alice)(uid=*", "*)(|(uid=*", "alice\u0000", "\\2a", "(uid=alice)"]) {
      expect((await password(name, "wonderland")).status, name).toBe(400);
    }
    // The NUL reaches the audit log as U+FFFD (PostgreSQL stores no NUL), and the other events of its batch with it.
    const failures = await (await server.admin("GET", `/admin/realms/${REALM}/events?type=LOGIN_ERROR&max=20`)).json() as { details: { username?: string } }[];
    expect(failures.map((e) => e.details.username)).toEqual(expect.arrayContaining(["alice\uFFFD", "*", "(uid=alice)"]));
    const runtime = await server.started.services.registry.get(REALM);
    expect(await runtime!.users.findByUsername("*")).toBeUndefined();
    expect(await runtime!.users.findByAttributes([{ name: "employeeNumber", value: "*" }], 2)).toEqual([]);
    expect(await runtime!.users.findByAttributes([{ name: "employeeNumber", value: "1001)(uid=*" }], 2)).toEqual([]);
  });

  it("precedence: a local user with an LDAP user's name wins by default; with LDAP precedence the clash is refused", async () => {
    expect((await password("shadow", "local-shadow")).status).toBe(200);
    expect((await password("shadow", "ldap-shadow")).status).toBe(400);
    await putLdap({ ...baseLdap(), precedence: "ldap" });
    try {
      expect((await password("shadow", "ldap-shadow")).status).toBe(400);
      expect((await password("shadow", "local-shadow")).status).toBe(400);
      expect((await userRows()).filter((u) => u.username === "shadow")).toHaveLength(1);
    } finally {
      await putLdap(baseLdap());
    }
  });
});

describe("LDAP usernames (issue #11, item 7)", () => {
  it("an entry whose username could pass for another is not linked; a directory's ASCII punctuation is kept", async () => {
    const b64u = (v: string) => Buffer.from(v, "utf8").toString("base64");
    slapd.add([
      [`dn:: ${b64u(`uid=ad\u200bmin,${PEOPLE}`)}`, "objectClass: inetOrgPerson", `uid:: ${b64u("ad\u200bmin")}`, "cn: hidden", "sn: Hidden", `userPassword: ${ssha("hidden-pass")}`].join("\n"),
      [`dn:: ${b64u(`uid=admın,${PEOPLE}`)}`, "objectClass: inetOrgPerson", `uid:: ${b64u("admın")}`, "cn: dotless", "sn: Dotless", `userPassword: ${ssha("dotless-pass")}`].join("\n"),
      person("o'brien", ["sn: OBrien", `userPassword: ${ssha("brien-pass")}`]),
    ].join("\n\n") + "\n");
    expect((await password("ad\u200bmin", "hidden-pass")).status).toBe(400);
    expect((await password("admın", "dotless-pass")).status).toBe(400);
    expect((await userRows()).map((u) => u.username)).not.toEqual(expect.arrayContaining(["ad\u200bmin", "admın"]));
    expect((await password("o'brien", "brien-pass")).status).toBe(200);
  });
});

describe("brute-force protection of LDAP users", () => {
  it("a permanent lockout disables the linked record, and LDAP's own state does not lift it; clearing does", async () => {
    // Only the account counts here: the address has failed often in the tests above.
    expect((await server.admin("PUT", `/admin/realms/${REALM}`, { permanentLockout: true, failureFactor: 2, ipFailureFactor: 0 })).status).toBe(204);
    try {
      for (let i = 0; i < 2; i++) expect((await password("bob", "wrong")).status).toBe(400);
      expect(await password("bob", "can-we-fix-it")).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Account disabled" } });
      const id = (await userRows()).find((u) => u.username === "bob")?.id ?? "";
      expect((await server.admin("DELETE", `/admin/realms/${REALM}/attack-detection/brute-force/users/${id}`)).status).toBe(204);
      expect((await password("bob", "can-we-fix-it")).status).toBe(200);
    } finally {
      expect((await server.admin("PUT", `/admin/realms/${REALM}`, { permanentLockout: false, failureFactor: 10, ipFailureFactor: null })).status).toBe(204);
      expect((await server.admin("DELETE", `/admin/realms/${REALM}/attack-detection/brute-force/users`)).status).toBe(204);
    }
  });
});

describe("LDAP attribute names are data (issue #11, item 3)", () => {
  it("mappers named like object keys fill the user's attributes; an LDAP attribute named constructor is not Object's", async () => {
    await putLdap({ ...baseLdap(), attributeMappers: [...baseLdap().attributeMappers, { name: "constructor", ldapAttribute: "employeeNumber" }, { name: "__proto__", ldapAttribute: "sn" }, { name: "ghost", ldapAttribute: "constructor" }] });
    try {
      expect((await password("alice", "wonderland")).status).toBe(200);
      const id = (await userRows()).find((u) => u.username === "alice")?.id;
      const text = await (await server.admin("GET", `/admin/realms/${REALM}/users/${id}`)).text();
      expect(text).toContain('"__proto__":["Liddell"]');
      expect(text).toContain('"constructor":["1001"]');
      expect(text).not.toContain("ghost");
      await setX509(byAttribute("Certificate Serial Number", "constructor"));
      const r = await certificate(alice);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    } finally {
      await putLdap(baseLdap());
    }
  });
});

describe("certificate login against LDAP", () => {
  it("Username or Email: the certificate's CN names the LDAP user", async () => {
    await setX509(byName);
    const r = await certificate(alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await userinfo(r.body.access_token as string, alice)).preferred_username).toBe("alice");
  });

  it("Custom Attribute Mapper: the serial number against employeeNumber; local users first, then LDAP precedence", async () => {
    await setX509(byAttribute("Certificate Serial Number", "employeeNumber"));
    const r = await certificate(alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await userinfo(r.body.access_token as string, alice)).preferred_username).toBe("alice");
    // Serial 1002: the local user emp-local has employeeNumber 1002, so does LDAP's bob.
    const bobs = pki.issue({ cn: "bob", serial: 1002 });
    expect((await userinfo((await certificate(bobs)).body.access_token as string, bobs)).preferred_username).toBe("emp-local");
    await putLdap({ ...baseLdap(), precedence: "ldap" });
    try {
      expect((await userinfo((await certificate(bobs)).body.access_token as string, bobs)).preferred_username).toBe("bob");
    } finally {
      await putLdap(baseLdap());
    }
  });

  it("duplicates: two LDAP users with the identity are refused", async () => {
    await setX509(byAttribute("Certificate Serial Number", "employeeNumber"));
    const r = await certificate(pki.issue({ cn: "twin", serial: 2000 }));
    expect(r).toEqual({ status: 401, body: { error: "invalid_request", error_description: "X509 certificate authentication's failed. Reason: \"2 users match the certificate's identity\"" } });
  });

  it("a user in neither store: 400 invalid_grant", async () => {
    await setX509(byName);
    expect(await certificate(pki.issue({ cn: "nobody", serial: 9001 }))).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid user credentials" } });
  });

  it("a certificate whose CN is filter syntax finds nobody", async () => {
    await setX509(byName);
    for (const cn of ["*", "alice)(uid=*"]) expect((await certificate(pki.issue({ cn, serial: 9100 }))).status, cn).toBe(400);
  });

  it("Full Certificate against userCertificate;binary (DER): exact bytes, read live, never stored", async () => {
    await setX509(byAttribute("Full Certificate in PEM format", "usercertificate"));
    const r = await certificate(alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await userinfo(r.body.access_token as string, alice)).preferred_username).toBe("alice");
    // Same serial and issuer (what LDAP's certificateExactMatch compares), another key: not alice's certificate.
    expect((await certificate(aliceTwin)).status).toBe(400);
    const attrs = await db.prisma.userAttribute.findMany({ where: { user: { username: "alice", realm: { name: REALM } } } });
    expect(attrs.map((a) => a.name)).not.toContain("usercertificate");
    expect(attrs.every((a) => !a.value.includes(b64(alice.der).slice(0, 40)))).toBe(true);
    // The events name the certificate by its SHA-256, not by the whole certificate (issue #11, item 9).
    const events = (await (await server.admin("GET", `/admin/realms/${REALM}/events?type=LOGIN,LOGIN_ERROR&max=5`)).json()) as { type: string; details: { username?: string } }[];
    const sha = (der: Uint8Array) => createHash("sha256").update(der).digest("hex");
    expect(events.find((e) => e.type === "LOGIN")?.details.username).toBe(sha(alice.der));
    expect(events.find((e) => e.type === "LOGIN_ERROR")?.details.username).toBe(sha(aliceTwin.der));
    expect(JSON.stringify(events)).not.toContain(b64(alice.der).slice(0, 40));
  });

  it("Full Certificate against a PEM attribute", async () => {
    await setX509(byAttribute("Full Certificate in PEM format", "pemcertificate"));
    const r = await certificate(carol);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await userinfo(r.body.access_token as string, carol)).preferred_username).toBe("carol");
    expect((await certificate(alice)).status).toBe(400);
  });
});

describe("connections", () => {
  it("fails over to the next URL when the first cannot be reached", async () => {
    const dead = `ldap://127.0.0.1:${await freePort()}`;
    await putLdap({ ...baseLdap(), connectionUrls: [dead, slapd.url] });
    try {
      expect((await password("alice", "wonderland")).status).toBe(200);
    } finally {
      await putLdap(baseLdap());
    }
  });

  it("LDAPS and StartTLS verify the server against the configured CA bundle", async () => {
    await putLdap({ ...baseLdap(), connectionUrls: [slapd.ldapsUrl], caCertificates: ldapCa });
    expect((await password("alice", "wonderland")).status).toBe(200);
    await putLdap({ ...baseLdap(), startTls: true, caCertificates: ldapCa });
    expect((await password("alice", "wonderland")).status).toBe(200);
    // Another CA: the server is not trusted, so nothing is sent to it.
    await putLdap({ ...baseLdap(), connectionUrls: [slapd.ldapsUrl], caCertificates: pki.root.pem });
    const r = await password("alice", "wonderland");
    expect(r).toEqual({ status: 503, body: { error: "temporarily_unavailable", error_description: "The user directory is not available; try again later." } });
    await putLdap(baseLdap());
  });

  it("x509-idp ldap test: connect, bind, a sample search", async () => {
    const ok = await runCli(server.db, ["ldap", "test", REALM]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^realm fed: LDAP OK \(ldap:\/\/127\.0\.0\.1:\d+\)/);
    expect(ok.stdout).toMatch(/ok {3}connect and bind \([\d.]+ ms\): ldap:\/\/127\.0\.0\.1:\d+ as cn=admin,dc=example,dc=org/);
    expect(ok.stdout).toMatch(/alice <alice@example\.org> {2}uid=alice,ou=people,dc=example,dc=org {2}id=[0-9a-f-]{36}/);
    await putLdap({ ...baseLdap(), bindCredential: "wrong" });
    try {
      const bad = await runCli(server.db, ["ldap", "test", REALM, "--json"]);
      expect(bad.code).toBe(1);
      const report = JSON.parse(bad.stdout) as { ok: boolean; steps: { ok: boolean; detail: string }[] };
      expect(report.ok).toBe(false);
      expect(report.steps[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/bind DN or credential is not accepted/) });
    } finally {
      await putLdap(baseLdap());
    }
    const none = await runCli(server.db, ["ldap", "test", "master"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/realm "master" has no LDAP federation/);
  });
});

describe("admin API", () => {
  it("shows the credential as a mask, stores it encrypted, and keeps it when the mask comes back", async () => {
    const got = await (await server.admin("GET", `/admin/realms/${REALM}/ldap`)).json() as Record<string, unknown>;
    expect(got).toMatchObject({ bindCredential: "**********", usersDn: PEOPLE, searchScope: "one", precedence: "local" });
    const row = await db.prisma.realm.findUnique({ where: { name: REALM } });
    expect(row?.ldapBindCredential).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(slapd.admin.password);
    await putLdap({ ...got });
    expect((await password("alice", "wonderland")).status).toBe(200);
    const exported = await runCli(server.db, ["realm", "export", REALM]);
    expect(JSON.parse(exported.stdout).ldap.bindCredential).toBe("**********");
    expect(JSON.parse(exported.stdout).users.map((u: { username: string }) => u.username)).not.toContain("alice");
  });

  it("refuses a bad configuration naming the field, and changes nothing", async () => {
    const before = await (await server.admin("GET", `/admin/realms/${REALM}/ldap`)).json();
    for (const [body, field] of [
      [{ ...baseLdap(), connectionUrls: ["http://x"] }, "ldap.connectionUrls[0]"],
      [{ ...baseLdap(), connectionUrls: ["ldaps://h"], startTls: true }, "ldap.startTls"],
      [{ ...baseLdap(), usernameAttribute: "uid)(x" }, "ldap.usernameAttribute"],
      [{ ...baseLdap(), caCertificates: "not pem" }, "ldap.caCertificates"],
      [{ ...baseLdap(), timeoutMs: 0 }, "ldap.timeoutMs"],
    ] as const) {
      const res = await server.admin("PUT", `/admin/realms/${REALM}/ldap`, body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain(field);
    }
    const created = await server.admin("POST", "/admin/realms", { realm: "fed-masked", ldap: { ...baseLdap(), bindCredential: "**********" } });
    expect(created.status).toBe(400);
    expect(JSON.stringify(await created.json())).toMatch(/ldap\.bindCredential.*none is stored/);
    expect((await server.admin("GET", "/admin/realms/fed-masked")).status).toBe(404);
    expect(await (await server.admin("GET", `/admin/realms/${REALM}/ldap`)).json()).toEqual(before);
  });
});

describe("outage", () => {
  it("slow LDAP: LDAP logins fail after the timeout with a clear error, local users keep working, health warns, one event", async () => {
    await setX509(byName);
    const usersBefore = (await userRows()).length;
    const outages = async () => (await (await server.admin("GET", `/admin/realms/${REALM}/events?type=LDAP_UNAVAILABLE`)).json()) as { type: string; details: { server: string } }[];
    const eventsBefore = (await outages()).length;
    slapd.pause();
    try {
      const t0 = Date.now();
      const r = await password("alice", "wonderland");
      const took = Date.now() - t0;
      expect(r).toEqual({ status: 503, body: { error: "temporarily_unavailable", error_description: "The user directory is not available; try again later." } });
      expect(took).toBeLessThan(5000);
      expect((await password("local-user", "local-pass")).status).toBe(200);
      const cert = await certificate(pki.issue({ cn: "newcomer", serial: 9200 }));
      expect(cert.status).toBe(503);
      const health = await (await server.fetch("/health/ready")).json() as { status: string; warnings?: string[] };
      expect(health.status).toBe("UP");
      expect(health.warnings?.[0]).toMatch(/^realm fed: LDAP unavailable since /);
      expect(JSON.stringify(health)).not.toContain("127.0.0.1");
    } finally {
      slapd.resume();
    }
    expect((await userRows()).length).toBe(usersBefore);
    const events = await outages();
    expect(events).toHaveLength(eventsBefore + 1);
    expect(events[0]?.details.server).toBe(slapd.url);
    expect((await password("alice", "wonderland")).status).toBe(200);
  });

  it("stopped LDAP: a clear error at once, local users unaffected, and logins work again when it is back", async () => {
    await slapd.kill();
    try {
      const t0 = Date.now();
      expect((await password("alice", "wonderland")).status).toBe(503);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect((await password("local-user", "local-pass")).status).toBe(200);
    } finally {
      await slapd.start();
    }
    expect((await password("alice", "wonderland")).status).toBe(200);
    const health = await (await server.fetch("/health/ready")).json() as { warnings?: string[] };
    expect(health.warnings).toBeUndefined();
  });
});
