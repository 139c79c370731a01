// Usernames are validated on every path that creates one (issue #11, item 7): the admin API, the CLI, realm and
// Keycloak import, just-in-time provisioning; a 400 names the field. Invalid UTF-8 in a JSON body is a 400 too.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, errorBanner, formOf } from "../helpers/browser.ts";
import { runCli } from "../helpers/cli.ts";
import { authorizationRequest, relyingParty } from "../helpers/rp.ts";
import { freshDatabase, tempDir } from "../helpers/db.ts";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let pki: Pki;
const REALM = "names";
const REDIRECT = "https://app.test/cb";
const BAD = ["admın", "аdmin", "ad\u200bmin", "admin\u202e", "ａｄｍｉｎ", "ad\u0007min", "a<b"];

beforeAll(async () => {
  server = await startTestServer();
  pki = buildPki();
  const res = await server.admin("POST", "/admin/realms", { realm: REALM, clients: [{ clientId: "cli", publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false }, { clientId: "web", publicClient: true, redirectUris: [REDIRECT] }] });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

const userCount = async (realm = REALM) => ((await (await server.admin("GET", `/admin/realms/${realm}/users?max=1000`)).json()) as unknown[]).length;

describe("usernames that could pass for another or hide part of themselves are refused", () => {
  it.each(BAD)("the admin API refuses %j with a 400 naming the field", async (username) => {
    const res = await server.admin("POST", `/admin/realms/${REALM}/users`, { username });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(/^username: /);
  });

  it("a lone surrogate in JSON text is refused too", async () => {
    const res = await server.fetch(`/admin/realms/${REALM}/users`, {
      method: "POST", headers: { authorization: `Bearer ${await server.adminToken()}`, "content-type": "application/json" }, body: '{"username":"ad\\ud800min"}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(/^username: .*lone surrogate/);
  });

  it("renaming a user to such a name is refused as well", async () => {
    const created = await server.admin("POST", `/admin/realms/${REALM}/users`, { username: "plain" });
    const id = created.headers.get("location")?.split("/").pop() ?? "";
    const res = await server.admin("PUT", `/admin/realms/${REALM}/users/${id}`, { username: "plaın" });
    expect(res.status).toBe(400);
    expect(((await (await server.admin("GET", `/admin/realms/${REALM}/users/${id}`)).json()) as { username: string }).username).toBe("plain");
  });

  it("the CLI refuses them (exit 2, the field named)", async () => {
    const r = await runCli(server.db, ["user", "add", REALM, "admın", "--password", "a-password-1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/username: .*U\+0131/);
  });

  it("realm import and Keycloak import refuse the file, naming the user, and import nothing", async () => {
    const dir = tempDir();
    const file = path.join(dir, "realm.json");
    fs.writeFileSync(file, JSON.stringify({ realm: "imported", users: [{ username: "fine" }, { username: "аdmin" }] }));
    const r = await runCli(server.db, ["realm", "import", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/users\[1\]\.username: .*script other than Latin/);
    const kc = path.join(dir, "keycloak.json");
    fs.writeFileSync(kc, JSON.stringify({ realm: "kc", users: [{ username: "ad\u200bmin", enabled: true }] }));
    const k = await runCli(server.db, ["realm", "import", "--keycloak", kc]);
    expect(k.code).toBe(2);
    expect(k.stderr).toMatch(/users\[0\]\.username: .*invisible/);
    expect((await server.admin("GET", "/admin/realms/imported")).status).toBe(404);
    expect((await server.admin("GET", "/admin/realms/kc")).status).toBe(404);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("just-in-time provisioning does not create a user with such a name: the certificate finds nobody", async () => {
    const set = await server.admin("PUT", `/admin/realms/${REALM}/x509`, {
      directGrant: { enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's Common Name", "x509-cert-auth.mapper-selection": "Username or Email", "x509-idp.create-user": "true" } },
      trustAnchors: [pki.root.pem],
    });
    expect(set.status).toBe(200);
    const before = await userCount();
    for (const [i, cn] of ["admın", "аdmin", "ad\u200bmin"].entries()) {
      const cert = pki.issue({ cn, serial: 7100 + i });
      const res = await server.withCertificate(cert.pem + pki.intermediate.pem, keyPem(cert.key)).fetch(`/realms/${REALM}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams({ grant_type: "password", client_id: "cli" }) });
      expect(res.status, cn).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_grant", error_description: "Invalid user credentials" });
    }
    expect(await userCount()).toBe(before);
    // A good name is still provisioned.
    const ok = pki.issue({ cn: "provisioned", serial: 7199 });
    const res = await server.withCertificate(ok.pem + pki.intermediate.pem, keyPem(ok.key)).fetch(`/realms/${REALM}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams({ grant_type: "password", client_id: "cli" }) });
    expect(res.status).toBe(200);
  });
});

describe("the administrator's name", () => {
  it("IDP_ADMIN_USER follows the same rules: a first start with a homograph stops, naming the variable (exit 2)", async () => {
    const db = await freshDatabase();
    try {
      const r = await runCli(db, ["serve"], { env: { IDP_ADMIN_USER: "admın", IDP_HTTPS_PORT: "0", IDP_HOST: "127.0.0.1" } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/IDP_ADMIN_USER: .*U\+0131/);
    } finally {
      await db.drop();
    }
  });
});

describe("JSON bodies", () => {
  it("invalid UTF-8 is a 400, not text repaired with U+FFFD", async () => {
    for (const bytes of [Buffer.from([0x7b, 0x22, 0x75, 0x73, 0x65, 0x72, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), Buffer.concat([Buffer.from('{"username":"a'), Buffer.from([0xff]), Buffer.from('"}')])]) {
      const res = await server.fetch(`/admin/realms/${REALM}/users`, { method: "POST", headers: { authorization: `Bearer ${await server.adminToken()}`, "content-type": "application/json" }, body: bytes });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_request", error_description: "the request body is not valid UTF-8" });
    }
    expect(((await (await server.admin("GET", `/admin/realms/${REALM}/users?search=a`)).json()) as { username: string }[]).some((u) => u.username.includes("\ufffd"))).toBe(false);
  });

  it("invalid UTF-8 in a login form is a 400 too", async () => {
    const browser = new Browser(server.dispatcher);
    const page = await browser.navigate((await authorizationRequest(await relyingParty(server, REALM, "web"), REDIRECT)).url, REDIRECT);
    const form = formOf(page, "kc-form-login");
    const res = await browser.request(form.action, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `csrf=${encodeURIComponent(form.fields.csrf ?? "")}&username=%C3%28&password=x`,
    });
    expect(res.status).toBe(400);
    expect(errorBanner(res)).toBe("the request body is not valid UTF-8");
  });
});
