// Several nodes on one PostgreSQL database behind a real HAProxy, round-robin (issue #12, item 5): two x509-idp
// processes started at the same moment on a fresh database both start (one bootstraps); a new realm used on both at
// once gets one key set; a browser login started on one node finishes on the other, a refresh works on the other;
// a client disabled through one node is refused by the other within a second; lockouts count across nodes.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, fetch } from "undici";
import { Browser, formOf } from "../helpers/browser.ts";
import { freshDatabase, tempDir, testDbKind, type TestDatabase } from "../helpers/db.ts";
import { freePort, sbin, waitForPort } from "../helpers/ports.ts";
import { serveProcess, type ServeProcess } from "../helpers/serve-process.ts";

const PASSWORD = "cluster-admin-password";
const SECRET_KEY = "the-cluster's-shared-secret-key-32+chars";
const PROXY_ADDRESS = "127.0.0.2";
const REDIRECT = "https://app.example.test/callback";

interface Node extends ServeProcess {
  name: string;
  httpPort: number;
  dataDir: string;
}

let db: TestDatabase;
let nodes: Node[] = [];
let haproxy: ChildProcess | undefined;
let proxyPort: number;
let agent: Agent;
let plain: Agent;
let proxyLog = "";

const base = () => `https://localhost:${proxyPort}`;
const direct = (n: Node) => `http://127.0.0.1:${n.httpPort}`;

async function startNode(name: string): Promise<Node> {
  const dataDir = tempDir(`x509idp-${name}-`);
  const httpPort = await freePort();
  const server = serveProcess({ url: db.url, dataDir }, {
    env: {
      IDP_HTTPS_PORT: String(await freePort()), IDP_HTTP_PORT: String(httpPort), IDP_PUBLIC_URL: `https://localhost:${proxyPort}`,
      IDP_TRUSTED_PROXIES: `${PROXY_ADDRESS}/32`, IDP_SECRET_KEY: SECRET_KEY, IDP_ADMIN_PASSWORD: PASSWORD, IDP_DEMO: "false", IDP_SHUTDOWN_DELAY: "0",
    },
  });
  return { ...server, name, httpPort, dataDir };
}

beforeAll(async () => {
  if (testDbKind !== "postgres") return;
  db = await freshDatabase();
  proxyPort = await freePort();
  // Both at the same moment, on a database nobody bootstrapped yet.
  nodes = await Promise.all([startNode("a"), startNode("b")]);
  for (const n of nodes) await n.listening(n.httpPort);
  const tls = path.join(nodes[0]?.dataDir ?? "", "tls");
  const dir = tempDir("x509idp-cluster-haproxy-");
  fs.writeFileSync(path.join(dir, "tls.pem"), `${fs.readFileSync(path.join(tls, "server.crt"), "utf8").trim()}\n${fs.readFileSync(path.join(tls, "server.key"), "utf8").trim()}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "haproxy.cfg"), `global
  log stderr format raw local0 warning
defaults
  mode http
  log global
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend https_in
  mode http
  bind 127.0.0.1:${proxyPort} ssl crt ${dir}/tls.pem
  http-request set-header X-Forwarded-Proto https
  option forwardfor
  default_backend x509_idp
backend x509_idp
  mode http
  balance roundrobin
  http-response set-header X-Served-By %s
  source ${PROXY_ADDRESS}
${nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.httpPort}`).join("\n")}
`);
  haproxy = spawn(sbin("haproxy"), ["-f", path.join(dir, "haproxy.cfg"), "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  haproxy.stderr?.on("data", (d: Buffer) => (proxyLog += d.toString()));
  await waitForPort(proxyPort, { name: "HAProxy", exitCode: () => haproxy?.exitCode ?? null, output: () => proxyLog });
  agent = new Agent({ connect: { ca: fs.readFileSync(path.join(tls, "ca.crt"), "utf8") } });
  plain = new Agent();
}, 120_000);

afterAll(async () => {
  haproxy?.kill("SIGKILL");
  for (const n of nodes) {
    n.child.kill("SIGTERM");
    await n.exited;
    fs.rmSync(n.dataDir, { recursive: true, force: true });
  }
  await agent?.close();
  await plain?.close();
  await db?.drop();
});

const form = (o: Record<string, string>) => new URLSearchParams(o);
const token = async (url: string, params: Record<string, string>, auth?: string) => {
  const res = await fetch(`${url}/protocol/openid-connect/token`, { method: "POST", dispatcher: url.startsWith("https") ? agent : plain, headers: { ...(auth && { authorization: auth }) }, body: form(params) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};
const adminToken = async () => (await token(`${base()}/realms/master`, { grant_type: "password", client_id: "admin-cli", username: "admin", password: PASSWORD })).body.access_token ?? "";
const admin = async (method: string, p: string, body?: unknown, at = base()) =>
  fetch(`${at}${p}`, { method, dispatcher: at.startsWith("https") ? agent : plain, headers: { authorization: `Bearer ${await adminToken()}`, ...(body !== undefined && { "content-type": "application/json" }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });

describe.skipIf(testDbKind !== "postgres")("two nodes on one PostgreSQL behind HAProxy", () => {
  it("both started on a fresh database at the same moment, and HAProxy spreads requests over both", async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base()}/health/ready`, { dispatcher: agent });
      expect(res.status).toBe(200);
      servedBy.add(res.headers.get("x-served-by") ?? "");
    }
    expect([...servedBy].sort()).toEqual(["a", "b"]);
    const master = await Promise.all(nodes.map(async (n) => (await fetch(`${direct(n)}/realms/master/protocol/openid-connect/certs`, { dispatcher: plain })).text()));
    expect(master[0]).toBe(master[1]);
  });

  it("a new realm used on both nodes at once gets one key set", async () => {
    const created = await admin("POST", "/admin/realms", {
      realm: "cluster",
      clients: [
        { clientId: "web", secret: "web-secret", redirectUris: [REDIRECT], directAccessGrantsEnabled: true, serviceAccountsEnabled: true },
        { clientId: "job", secret: "job-secret", serviceAccountsEnabled: true, standardFlowEnabled: false },
      ],
      users: [{ username: "alice", credentials: [{ type: "password", value: "alice-password" }] }],
      failureFactor: 3,
    });
    expect(created.status).toBe(201);
    const jwks = await Promise.all([0, 1, 0, 1].map((i) => fetch(`${direct(nodes[i] as Node)}/realms/cluster/protocol/openid-connect/certs`, { dispatcher: plain }).then((r) => r.text())));
    expect(new Set(jwks).size).toBe(1);
    expect((JSON.parse(jwks[0] ?? "{}") as { keys: unknown[] }).keys).toHaveLength(2);
  });

  it("a browser login started on one node finishes on the other; the refresh works on the first", async () => {
    const [a, b] = nodes as [Node, Node];
    const browser = new Browser(plain);
    const challenge = { code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" };
    const started = await browser.request(`${direct(a)}/realms/cluster/protocol/openid-connect/auth?${form({ client_id: "web", response_type: "code", scope: "openid", redirect_uri: REDIRECT, state: "s", ...challenge })}`);
    expect(started.status).toBe(303);
    const loginUrl = new URL(started.location ?? "", direct(a));
    const page = await browser.request(`${direct(b)}${loginUrl.pathname}`);
    const login = formOf(page, "kc-form-login");
    const done = await browser.request(`${direct(a)}${new URL(login.action, base()).pathname}`, { form: { ...login.fields, username: "alice", password: "alice-password" } });
    // The provider resumes on whichever node, and sends the browser to the client with a code.
    let at = done;
    for (let hop = 0; hop < 3 && at.location && !at.location.startsWith(REDIRECT); hop++) at = await browser.request(`${direct(hop % 2 ? a : b)}${new URL(at.location, base()).pathname}${new URL(at.location, base()).search}`);
    const code = new URL(at.location ?? "").searchParams.get("code") ?? "";
    expect(code).not.toBe("");
    const basic = `Basic ${Buffer.from("web:web-secret").toString("base64")}`;
    const tokens = await token(`${direct(b)}/realms/cluster`, { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" }, basic);
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    const refreshed = await token(`${direct(a)}/realms/cluster`, { grant_type: "refresh_token", refresh_token: tokens.body.refresh_token ?? "" }, basic);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });

  it("a client disabled through one node is refused by the other within a second", async () => {
    const [a, b] = nodes as [Node, Node];
    const basic = `Basic ${Buffer.from("job:job-secret").toString("base64")}`;
    expect((await token(`${direct(b)}/realms/cluster`, { grant_type: "client_credentials" }, basic)).status).toBe(200); // b has it cached
    const clients = (await (await admin("GET", "/admin/realms/cluster/clients?clientId=job", undefined, direct(a))).json()) as { id: string }[];
    const t0 = Date.now();
    expect((await admin("PUT", `/admin/realms/cluster/clients/${clients[0]?.id}`, { enabled: false }, direct(a))).status).toBe(204);
    let refusedAfter = Number.POSITIVE_INFINITY;
    while (Date.now() - t0 < 3000) {
      if ((await token(`${direct(b)}/realms/cluster`, { grant_type: "client_credentials" }, basic)).status !== 200) {
        refusedAfter = Date.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refusedAfter).toBeLessThan(1000);
  });

  it("password failures on both nodes count towards one lockout", async () => {
    const [a, b] = nodes as [Node, Node];
    const basic = `Basic ${Buffer.from("web:web-secret").toString("base64")}`;
    for (const n of [a, b, a]) expect((await token(`${direct(n)}/realms/cluster`, { grant_type: "password", username: "alice", password: "wrong" }, basic)).status).toBe(400);
    expect((await token(`${direct(b)}/realms/cluster`, { grant_type: "password", username: "alice", password: "alice-password" }, basic)).body.error_description).toBe("Invalid user credentials");
  });
});
