// Every absolute URL comes from IDP_PUBLIC_URL, never from the request's Host or forwarded headers (issue #11,
// item 5; Keycloak's `hostname` option): discovery, redirects, form actions and logout pages built for a request that
// says `Host: evil.test` name the public URL, from a trusted proxy as from anyone; discovery may be cached.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, request } from "undici";
import { loadSettings, SettingsError } from "../../src/config/env.ts";
import { REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { freePort } from "../helpers/ports.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let direct: TestServer;
let proxied: TestServer;
let plain: Agent;
let tls: Agent;
let httpPort: number;

const EVIL = { host: "evil.test", "x-forwarded-host": "evil.test", "x-forwarded-proto": "http", "x-forwarded-port": "80", forwarded: "host=evil.test;proto=http" };

beforeAll(async () => {
  direct = await startTestServer();
  await seedAcme(direct);
  httpPort = await freePort();
  // Behind a trusted proxy (here: loopback itself) on the plain HTTP port, as behind nginx.
  proxied = await startTestServer({ env: { IDP_HTTP_PORT: String(httpPort), IDP_TRUSTED_PROXIES: "127.0.0.1/32,::1/128" } });
  await seedAcme(proxied);
  plain = new Agent();
  // The TLS server name stays localhost (what the certificate names) while the Host header says evil.test.
  tls = new Agent({ connect: { ca: direct.ca, servername: "localhost", checkServerIdentity: () => undefined } });
});
afterAll(async () => {
  await plain?.close();
  await tls?.close();
  for (const s of [direct, proxied]) {
    await s?.stop();
    await s?.db.drop();
  }
});

/** A request whose Host header says evil.test (undici's fetch would not send one). */
async function evil(server: TestServer, path: string, o: { method?: "GET" | "POST"; body?: string; headers?: Record<string, string>; viaHttp?: boolean } = {}) {
  const url = o.viaHttp ? `http://127.0.0.1:${httpPort}${path}` : `${server.base}${path}`;
  const res = await request(url, {
    method: o.method ?? "GET",
    headers: { ...EVIL, accept: "text/html", ...(o.body !== undefined && { "content-type": "application/x-www-form-urlencoded" }), ...o.headers },
    ...(o.body !== undefined && { body: o.body }),
    dispatcher: o.viaHttp ? plain : tls,
  });
  const text = await res.body.text();
  const headers = res.headers as Record<string, string | string[] | undefined>;
  return { status: res.statusCode, text, location: headers.location as string | undefined, cacheControl: headers["cache-control"] as string | undefined, setCookie: ([] as string[]).concat(headers["set-cookie"] ?? []) };
}

const auth = (extra: Record<string, string> = {}) =>
  `/realms/acme/protocol/openid-connect/auth?${new URLSearchParams({ client_id: "web-app", response_type: "code", scope: "openid", redirect_uri: REDIRECT, state: "s", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", ...extra })}`;

describe.each([
  ["directly", () => direct, false],
  ["from a trusted proxy", () => proxied, true],
] as const)("a request with Host: evil.test, %s", (_name, server, viaHttp) => {
  it("discovery lists the public URL's endpoints, and says how long it may be cached", async () => {
    const s = server();
    const r = await evil(s, "/realms/acme/.well-known/openid-configuration", { viaHttp, headers: { accept: "application/json" } });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain("evil.test");
    const doc = JSON.parse(r.text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(doc)) if (typeof v === "string" && /^https?:/.test(v)) expect(v, k).toMatch(new RegExp(`^${s.base}/realms/acme(/|$)`));
    expect(doc.issuer).toBe(`${s.base}/realms/acme`);
    expect(r.cacheControl).toMatch(/max-age=\d+/);
  });

  it("the authorization redirect, the login form and its cookies name the public URL", async () => {
    const s = server();
    const r = await evil(s, auth(), { viaHttp });
    expect(r.status).toBe(303);
    expect(r.location).not.toContain("evil.test");
    const login = new URL(r.location ?? "", s.base);
    expect(login.origin).toBe(s.base);
    const cookie = r.setCookie.map((c) => c.split(";")[0]).join("; ");
    expect(r.setCookie.join("\n")).not.toContain("evil.test");
    const page = await evil(s, login.pathname, { viaHttp, headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain("evil.test");
  });

  it("logout pages and their form actions name the public URL", async () => {
    const s = server();
    const r = await evil(s, `/realms/acme/protocol/openid-connect/logout?client_id=web-app`, { viaHttp });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain("evil.test");
    expect(r.text).toContain(`action="${s.base}/realms/acme/protocol/openid-connect/logout/confirm"`);
  });

  it("JWKS and errors do not echo the host either", async () => {
    const s = server();
    for (const path of ["/realms/acme/protocol/openid-connect/certs", "/realms/acme/nothing", "/nope"]) {
      const r = await evil(s, path, { viaHttp });
      expect(r.text, path).not.toContain("evil.test");
      expect(r.location, path).toBeUndefined();
    }
  });
});

describe("IDP_PUBLIC_URL", () => {
  it("is an origin: a path, query, fragment or userinfo is refused at start with the variable named", () => {
    for (const url of ["https://idp.example.org/auth", "https://idp.example.org/?x=1", "https://idp.example.org/#x", "https://admin@idp.example.org"]) {
      expect(() => loadSettings({ IDP_PUBLIC_URL: url }), url).toThrow(SettingsError);
      expect(() => loadSettings({ IDP_PUBLIC_URL: url }), url).toThrow(/IDP_PUBLIC_URL/);
    }
    expect(loadSettings({ IDP_PUBLIC_URL: "https://IDP.example.org:8443/" }).publicUrl).toBe("https://idp.example.org:8443");
  });
});

