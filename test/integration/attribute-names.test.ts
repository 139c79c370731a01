// Attribute names are data, never JavaScript object keys (issue #11, item 3): `constructor`, `__proto__`, `toString`…
// work as attribute names everywhere names come from outside (admin API, CLI, realm and Keycloak import, certificate
// mapping), and a request that fails changes nothing.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/db.ts";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let pki: Pki;
const REALM = "names";
const NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf"];
const attributes = Object.fromEntries(NAMES.map((n, i) => [n, [`v${i}`]]));
/** JSON text with an own "__proto__" key (an object literal would set the prototype instead). */
const body = (user: Record<string, unknown>) => JSON.stringify(user).replace('"attributes":{', `"attributes":{"__proto__":["p"],`);

const post = (path: string, text: string) =>
  server.adminToken().then((t) => server.fetch(path, { method: "POST", headers: { authorization: `Bearer ${t}`, "content-type": "application/json" }, body: text }));
const token = (form: Record<string, string>, client: Pick<TestServer, "fetch"> = server) =>
  client.fetch(`/realms/${REALM}/protocol/openid-connect/token`, { method: "POST", body: new URLSearchParams({ client_id: "cli", ...form }) });

beforeAll(async () => {
  server = await startTestServer();
  pki = buildPki();
  const res = await server.admin("POST", "/admin/realms", { realm: REALM, clients: [{ clientId: "cli", publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false }] });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

describe("attribute names that are JavaScript object keys", () => {
  it("the admin API creates, lists, reads and updates a user with them", async () => {
    const { __proto__: _p, ...rest } = attributes;
    const created = await post(`/admin/realms/${REALM}/users`, body({ username: "proto", attributes: rest, credentials: [{ type: "password", value: "proto-password" }] }));
    expect(created.status, await created.clone().text()).toBe(201);
    const id = created.headers.get("location")?.split("/").pop() ?? "";
    const list = await server.admin("GET", `/admin/realms/${REALM}/users`);
    expect(list.status).toBe(200);
    const one = await server.admin("GET", `/admin/realms/${REALM}/users/${id}`);
    expect(one.status).toBe(200);
    const text = await one.text();
    expect(text).toContain('"__proto__":["p"]');
    const got = JSON.parse(text) as { attributes: Record<string, string[]> };
    for (const [i, n] of NAMES.entries()) if (n !== "__proto__") expect(Object.getOwnPropertyDescriptor(got.attributes, n)?.value, n).toEqual([`v${i}`]);
    const put = await server.admin("PUT", `/admin/realms/${REALM}/users/${id}`, { attributes: { constructor: ["changed"] } });
    expect(put.status).toBe(204);
    const after = (await (await server.admin("GET", `/admin/realms/${REALM}/users/${id}`)).json()) as { attributes: Record<string, string[]> };
    expect(Object.getOwnPropertyDescriptor(after.attributes, "constructor")?.value).toEqual(["changed"]);
  });

  it("the user logs in, and the realm keeps working", async () => {
    const res = await token({ grant_type: "password", username: "proto", password: "proto-password" });
    expect(res.status).toBe(200);
    expect((await server.admin("GET", `/admin/realms/${REALM}/users?search=pro`)).status).toBe(200);
  });

  it("a certificate maps through the Custom Attribute Mapper on an attribute named constructor", async () => {
    const set = await server.admin("PUT", `/admin/realms/${REALM}/x509`, {
      directGrant: { enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's Common Name", "x509-cert-auth.mapper-selection": "Custom Attribute Mapper", "x509-cert-auth.mapper-selection.user-attribute-name": "constructor" } },
      trustAnchors: [pki.root.pem],
    });
    expect(set.status).toBe(200);
    const cert = pki.issue({ cn: "changed", serial: 9001 });
    const res = await token({ grant_type: "password" }, server.withCertificate(cert.pem + pki.intermediate.pem, keyPem(cert.key)));
    const json = (await res.json()) as { access_token?: string };
    expect(res.status, JSON.stringify(json)).toBe(200);
  });

  it("an X.509 configuration keeps keys named like object keys (unknown keys, kept and ignored); __proto__ is refused, not lost", async () => {
    const put = (config: string) => server.adminToken().then((t) => server.fetch(`/admin/realms/${REALM}/x509`, {
      method: "PUT", headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
      body: `{"directGrant":{"enabled":true,"config":${config}},"trustAnchors":[${JSON.stringify(pki.root.pem)}]}`,
    }));
    const before = await (await server.admin("GET", `/admin/realms/${REALM}/x509`)).text();
    const refused = await put('{"x509-cert-auth.mapping-source-selection":"Subject\'s Common Name","__proto__":"p"}');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error_description: string }).error_description).toBe("x509.directGrant.config.__proto__: this key cannot be stored");
    expect(await (await server.admin("GET", `/admin/realms/${REALM}/x509`)).text()).toBe(before);
    const config = '{"x509-cert-auth.mapping-source-selection":"Subject\'s Common Name","x509-cert-auth.mapper-selection":"Custom Attribute Mapper","x509-cert-auth.mapper-selection.user-attribute-name":"constructor","constructor":"c","toString":"t"}';
    const res = await put(config);
    expect(res.status, await res.clone().text()).toBe(200);
    const text = await (await server.admin("GET", `/admin/realms/${REALM}/x509`)).text();
    for (const k of ['"constructor":"c"', '"toString":"t"']) expect(text).toContain(k);
  });

  it("the CLI adds a user with them", async () => {
    const r = await runCli(server.db, ["user", "add", REALM, "cli-proto", "--attribute", "constructor=a", "--attribute", "__proto__=b", "--attribute", "toString=c", "--password", "x-password-1"]);
    expect(r.code, r.stderr).toBe(0);
    const [u] = (await (await server.admin("GET", `/admin/realms/${REALM}/users?username=cli-proto&exact=true`)).json()) as { attributes: Record<string, string[]> }[];
    expect(JSON.stringify(u?.attributes)).toBe('{"__proto__":["b"],"constructor":["a"],"toString":["c"]}');
  });

  it("realm import and Keycloak import keep them", async () => {
    const dir = tempDir();
    const file = path.join(dir, "realm.json");
    fs.writeFileSync(file, body({ realm: "imported", users: [{ username: "imp", attributes: { constructor: ["c"] } }] }));
    expect((await runCli(server.db, ["realm", "import", file])).code).toBe(0);
    const kc = path.join(dir, "keycloak.json");
    fs.writeFileSync(kc, JSON.stringify({ realm: "kc", users: [{ username: "kcuser", enabled: true, attributes: { constructor: ["k"], toString: ["t"] } }] }).replace('"attributes":{', '"attributes":{"__proto__":["p"],'));
    const r = await runCli(server.db, ["realm", "import", "--keycloak", kc]);
    expect(r.code, r.stderr).toBe(0);
    for (const [realm, username, expected] of [["imported", "imp", '{"__proto__":["p"],"constructor":["c"]}'], ["kc", "kcuser", '{"__proto__":["p"],"constructor":["k"],"toString":["t"]}']] as const) {
      const [u] = (await (await server.admin("GET", `/admin/realms/${realm}/users?username=${username}&exact=true`)).json()) as { attributes: unknown }[];
      expect(JSON.stringify(u?.attributes), realm).toBe(expected);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("form parameters named like object keys are parameters (the login form)", async () => {
    const res = await server.fetch(`/realms/${REALM}/login-actions/x/login`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" }, body: "constructor=1&__proto__=2&toString=3" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toBe("login timed out");
  });
});

describe("a failed request changes nothing", () => {
  it("a user whose attribute cannot be stored is refused with 400 and not created", async () => {
    for (const attrs of [{ team: ["a\u0000b"] }, { "a\u0000b": ["x"] }]) {
      const res = await server.admin("POST", `/admin/realms/${REALM}/users`, { username: "half-made", attributes: attrs });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error_description: string }).error_description).toMatch(/^attributes\./);
    }
    expect(await (await server.admin("GET", `/admin/realms/${REALM}/users?username=half-made&exact=true`)).json()).toEqual([]);
  });

  it("two users racing for one username: one is created, the other gets 409, nothing half-written", async () => {
    const results = await Promise.all([0, 1, 2].map((i) => server.admin("POST", `/admin/realms/${REALM}/users`, { username: "racer", attributes: { n: [String(i)] } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const users = (await (await server.admin("GET", `/admin/realms/${REALM}/users?username=racer&exact=true`)).json()) as { attributes: Record<string, string[]> }[];
    expect(users).toHaveLength(1);
    expect(users[0]?.attributes.n).toHaveLength(1);
  });
});
