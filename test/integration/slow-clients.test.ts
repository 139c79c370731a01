// Slow and abusive clients (issue #12, item 6), against the real `x509-idp serve` with short limits: a request whose
// headers or body never finish, a TLS handshake that never finishes and an idle kept-alive connection are closed
// within their timeouts (IDP_REQUEST_TIMEOUT, IDP_TLS_HANDSHAKE_TIMEOUT, IDP_KEEPALIVE_TIMEOUT); one address holds at
// most IDP_MAX_CONNECTIONS_PER_ADDRESS connections, with a log line when it is refused, and a trusted proxy is exempt.
// IDP_METRICS_PORT serves /metrics on a port of its own.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/ports.ts";
import { serveProcess, type ServeProcess } from "../helpers/serve-process.ts";

const PROXY = "127.0.0.2";
const LIMIT = 5;
let db: TestDatabase;
let server: ServeProcess;
let httpsPort: number;
let httpPort: number;
let metricsPort: number;
let ca: string;

beforeAll(async () => {
  db = await freshDatabase();
  httpsPort = await freePort();
  httpPort = await freePort();
  metricsPort = await freePort();
  server = serveProcess(db, {
    env: {
      IDP_HTTPS_PORT: String(httpsPort), IDP_HTTP_PORT: String(httpPort), IDP_PUBLIC_URL: `https://localhost:${httpsPort}`, IDP_DEMO: "false",
      IDP_TRUSTED_PROXIES: `${PROXY}/32`, IDP_REQUEST_TIMEOUT: "2", IDP_TLS_HANDSHAKE_TIMEOUT: "2", IDP_KEEPALIVE_TIMEOUT: "2",
      IDP_MAX_CONNECTIONS_PER_ADDRESS: String(LIMIT), IDP_SHUTDOWN_DELAY: "0", IDP_METRICS_PORT: String(metricsPort),
    },
  });
  await server.listening(httpsPort);
  await server.listening(httpPort);
  ca = fs.readFileSync(path.join(db.dataDir, "tls", "ca.crt"), "utf8");
}, 90_000);

afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.exited;
  await db?.drop();
});

interface Ended {
  /** Milliseconds from the last byte sent until the server closed the connection. */
  afterMs: number;
  received: string;
}

/** Waits until the server closes `socket`, measured from now. */
function closedByServer(socket: net.Socket, ms = 15_000): Promise<Ended> {
  const from = Date.now();
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString()));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.once("close", () => {
      clearTimeout(t);
      resolve({ afterMs: Date.now() - from, received });
    });
    socket.on("error", () => undefined);
  });
}

function tlsConnect(o: { localAddress?: string } = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port: httpsPort, servername: "localhost", ca, ...o });
    s.once("secureConnect", () => resolve(s)).once("error", reject);
  });
}

const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost:${httpsPort}\r\n\r\n`;

describe("timeouts", () => {
  it("closes a connection whose request headers never finish (HTTPS and plain HTTP) within IDP_REQUEST_TIMEOUT", async () => {
    const secure = await tlsConnect();
    const plain = net.connect(httpPort, "127.0.0.1");
    await new Promise((r) => plain.once("connect", r));
    const partial = `GET /health/ready HTTP/1.1\r\nHost: localhost\r\nX-Slow: `;
    secure.write(partial);
    plain.write(partial);
    const [a, b] = await Promise.all([closedByServer(secure), closedByServer(plain)]);
    for (const e of [a, b]) {
      expect(e.afterMs).toBeGreaterThanOrEqual(1500);
      expect(e.afterMs).toBeLessThan(4500);
      expect(e.received).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    }
  });

  it("closes a connection whose request body never finishes within IDP_REQUEST_TIMEOUT", async () => {
    const socket = await tlsConnect();
    socket.write(`POST /realms/master/protocol/openid-connect/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=pass`);
    const e = await closedByServer(socket);
    expect(e.afterMs).toBeLessThan(4500);
    expect(e.received).not.toContain("access_token");
  });

  it("a slow body that arrives in time is answered", async () => {
    const socket = await tlsConnect();
    socket.write(`POST /realms/master/protocol/openid-connect/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\nConnection: close\r\n\r\ngrant_type=`);
    await new Promise((r) => setTimeout(r, 1000));
    socket.write("password&x");
    const e = await closedByServer(socket);
    expect(e.received).toMatch(/^HTTP\/1\.1 400 /);
    expect(e.received).toContain('"error":"invalid_request"');
  });

  it("closes a TLS handshake that never finishes within IDP_TLS_HANDSHAKE_TIMEOUT", async () => {
    const silent = net.connect(httpsPort, "127.0.0.1");
    await new Promise((r) => silent.once("connect", r));
    const half = net.connect(httpsPort, "127.0.0.1");
    await new Promise((r) => half.once("connect", r));
    half.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])); // a ClientHello's first bytes, then nothing
    const [a, b] = await Promise.all([closedByServer(silent), closedByServer(half)]);
    for (const e of [a, b]) {
      expect(e.afterMs).toBeGreaterThanOrEqual(1500);
      expect(e.afterMs).toBeLessThan(4500);
    }
  });

  it("closes an idle kept-alive connection after IDP_KEEPALIVE_TIMEOUT", async () => {
    const socket = await tlsConnect();
    const ended = closedByServer(socket);
    socket.write(request("/health/live"));
    const e = await ended;
    expect(e.received).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(e.received.toLowerCase()).toContain("keep-alive: timeout=2");
    expect(e.afterMs).toBeGreaterThanOrEqual(1500);
    expect(e.afterMs).toBeLessThan(4500);
  });
});

describe("connections per address", () => {
  it(`refuses the ${LIMIT + 1}th connection of one address with a log line, and accepts again once one closes`, async () => {
    const held = await Promise.all(Array.from({ length: LIMIT }, () => tlsConnect()));
    try {
      // Each of them works.
      const answers = await Promise.all(held.map((s) => new Promise<string>((resolve) => {
        let r = "";
        const on = (d: Buffer) => {
          r += d.toString();
          if (r.includes("\r\n\r\n")) { s.off("data", on); resolve(r); }
        };
        s.on("data", on);
        s.write(request("/health/live"));
      })));
      for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 200/);

      const refused = await tlsConnect().then((s) => { s.destroy(); return "connected"; }, (e: NodeJS.ErrnoException) => e.code ?? e.message);
      expect(refused).toMatch(/ECONNRESET|EPIPE|socket disconnected/);
      // Both ports count together.
      const plain = net.connect(httpPort, "127.0.0.1");
      const closed = closedByServer(plain);
      plain.write(request("/health/live"));
      expect((await closed).received).toBe("");
      expect(server.output()).toContain("connection refused: this address has IDP_MAX_CONNECTIONS_PER_ADDRESS connections open");
      expect(server.output()).toContain('"address":"127.0.0.1"');
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(Number(/^x509idp_connections_refused_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);

      held.pop()?.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const again = await tlsConnect();
      again.destroy();
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it("does not limit a trusted proxy, which carries everyone's connections", async () => {
    const many = await Promise.all(Array.from({ length: LIMIT * 3 }, () => tlsConnect({ localAddress: PROXY })));
    expect(many).toHaveLength(LIMIT * 3);
    for (const s of many) s.destroy();
  });
});

describe("IDP_METRICS_PORT", () => {
  it("serves /metrics there without a token when none is set, and nothing else; the main ports have no /metrics", async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("# TYPE keycloak_user_events_total counter");
    expect((await fetch(`http://127.0.0.1:${metricsPort}/health/ready`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${httpPort}/metrics`)).status).toBe(404);
  });
});
