// RFC 8705 §3 at every resource x509-idp serves: a certificate-bound access token (cnf.x5t#S256) is accepted only on
// a connection that presents that certificate, at the admin API as at userinfo (issue #11, item 1).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { startTestServer, type MtlsClient, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let pki: Pki;
let admin: MtlsClient;
let stranger: MtlsClient;
let token: string;

const config = { "x509-cert-auth.mapping-source-selection": "Subject's Common Name", "x509-cert-auth.mapper-selection": "Username or Email" };

beforeAll(async () => {
  server = await startTestServer();
  pki = buildPki();
  const res = await server.admin("PUT", "/admin/realms/master/x509", { directGrant: { enabled: true, config }, trustAnchors: [pki.root.pem] });
  expect(res.status, await res.text()).toBe(200);
  const created = await server.admin("POST", "/admin/realms/master/users", { username: "stranger", realmRoles: ["admin"] });
  expect(created.status).toBe(201);
  const chain = (cn: string, serial: number) => {
    const c = pki.issue({ cn, serial });
    return server.withCertificate(c.pem + pki.intermediate.pem, keyPem(c.key));
  };
  admin = chain("admin", 7001);
  stranger = chain("stranger", 7002);
  const grant = await admin.fetch("/realms/master/protocol/openid-connect/token", { method: "POST", body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", scope: "openid" }) });
  const body = (await grant.json()) as { access_token?: string };
  expect(grant.status, JSON.stringify(body)).toBe(200);
  token = body.access_token as string;
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

const users = (client: Pick<MtlsClient, "fetch">) => client.fetch("/admin/realms/master/users", { headers: { authorization: `Bearer ${token}` } });

describe("certificate-bound access tokens at the admin API (RFC 8705 §3)", () => {
  it("the certificate direct grant's token is bound: introspection shows cnf.x5t#S256", async () => {
    const res = await admin.fetch("/realms/master/protocol/openid-connect/token/introspect", {
      method: "POST", body: new URLSearchParams({ token, client_id: "admin-cli" }),
    });
    const body = (await res.json()) as { active?: boolean; cnf?: Record<string, string> };
    expect(body.active).toBe(true);
    expect(body.cnf?.["x5t#S256"]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("is accepted on a connection with the bound certificate", async () => {
    expect((await users(admin)).status).toBe(200);
  });

  it("is refused (401 invalid_token) on a connection without a certificate", async () => {
    const res = await users(server);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_token" });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="master", error="invalid_token"/);
  });

  it("is refused (401) on a connection with another administrator's certificate", async () => {
    expect((await users(stranger)).status).toBe(401);
    expect((await stranger.fetch("/admin/realms", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ realm: "stolen" }) })).status).toBe(401);
    expect((await server.admin("GET", "/admin/realms/stolen")).status).toBe(404);
  });

  it("every admin route applies the same check", async () => {
    for (const path of ["/admin/realms", "/admin/realms/master", "/admin/realms/master/clients", "/admin/realms/master/x509", "/admin/realms/master/events"]) {
      expect((await server.fetch(path, { headers: { authorization: `Bearer ${token}` } })).status, path).toBe(401);
      expect((await admin.fetch(path, { headers: { authorization: `Bearer ${token}` } })).status, path).toBe(200);
    }
  });

  it("userinfo applies it too", async () => {
    const userinfo = (client: Pick<MtlsClient, "fetch">) => client.fetch("/realms/master/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${token}` } });
    expect((await userinfo(admin)).status).toBe(200);
    expect((await userinfo(server)).status).toBe(401);
    expect((await userinfo(stranger)).status).toBe(401);
  });

  it("an unbound token (password grant) still works without a certificate", async () => {
    expect((await server.admin("GET", "/admin/realms/master/users")).status).toBe(200);
  });
});
