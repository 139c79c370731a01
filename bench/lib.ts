// Benchmark plumbing: start the real server as its own process, drive it over keep-alive HTTPS, summarise.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Agent, Pool, fetch } from "undici";

export const ROOT = path.resolve(import.meta.dirname, "..");

export interface Server extends Launched {
  /** SIGTERM, then the database and data folder are removed. */
  stop(): Promise<void>;
}

/** A data folder, a database and a port, kept across restarts of the server (kill -9, outages). */
export interface Prepared {
  kind: "sqlite" | "postgres";
  dataDir: string;
  url: string;
  port: number;
  drop(): Promise<void>;
}

/** One running `x509-idp serve` process. */
export interface Launched {
  base: string;
  ca: string;
  dataDir: string;
  pid: number;
  /** From spawn until /health/ready answered 200. */
  readyMs: number;
  exited: Promise<unknown>;
  /** RSS of the server's processes (a pool's primary and workers summed). */
  rssMiB(): number;
  /** CPU seconds the server's processes used so far (user + system). */
  cpuSeconds(): number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const PG_URL = process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export async function postgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** A fresh database: a SQLite file in the data folder, or a new PostgreSQL database dropped on stop. */
async function database(kind: "sqlite" | "postgres", dataDir: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === "sqlite") return { url: `file:${path.join(dataDir, "idp.db")}`, drop: async () => {} };
  const name = `x509idp_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function prepare(kind: "sqlite" | "postgres"): Promise<Prepared> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "x509idp-bench-"));
  const db = await database(kind, dataDir);
  return {
    kind,
    dataDir,
    url: db.url,
    port: await freePort(),
    async drop() {
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const rssOf = (pid: number) => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
};

/** `pid` and every process below it (a pool's workers), from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const p = all[i] as number;
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/)) if (c) all.push(Number(c));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return all;
}

const safe = (f: () => number) => {
  try {
    return f();
  } catch {
    return 0; // the process ended meanwhile
  }
};
/** The RSS of `pid` and its children, summed (the server's processes only: not npm, not the shell). */
export const treeRssOf = (pid: number) => processTree(pid).reduce((n, p) => n + safe(() => rssOf(p)), 0);

const TICKS_PER_SECOND = 100; // USER_HZ, the unit of utime and stime in /proc/<pid>/stat on Linux
/** CPU seconds (user + system, every thread) used so far by `pid` and its children. */
export const treeCpuSeconds = (pid: number) =>
  processTree(pid).reduce((n, p) => n + safe(() => {
    // The fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  }), 0);

/** Starts the server on `p` and resolves once /health/ready answers 200. */
export async function launch(p: Prepared, env: Record<string, string> = {}): Promise<Launched> {
  const started = performance.now();
  // As `npm start` runs it (bin/x509-idp: memory settings included).
  const child: ChildProcess = spawn(path.join(ROOT, "bin/x509-idp"), ["serve"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: p.url, IDP_DATA_DIR: p.dataDir, IDP_HTTPS_PORT: String(p.port), IDP_HOST: "127.0.0.1", IDP_LOG_LEVEL: "warn", IDP_SHUTDOWN_DELAY: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((r) => child.once("exit", r));
  const base = `https://localhost:${p.port}`;
  const deadline = Date.now() + 60_000;
  let ca = "";
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr}`);
    const caFile = path.join(p.dataDir, "tls", "ca.crt");
    if (fs.existsSync(caFile)) {
      ca = fs.readFileSync(caFile, "utf8");
      const agent = new Agent({ connect: { ca } });
      const ok = await fetch(`${base}/health/ready`, { dispatcher: agent }).then((r) => r.ok, () => false);
      await agent.close();
      if (ok) break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid ?? 0;
  // A pool (IDP_WORKERS > 1) is ready once every worker runs: the first one answers /health/ready before the others
  // have started (cli/workers.ts starts them one after the other).
  const workers = Number(env.IDP_WORKERS ?? 1);
  if (workers > 1) {
    while (processTree(pid).length < workers + 1) {
      if (Date.now() > deadline) throw new Error(`the workers did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return {
    base,
    ca,
    dataDir: p.dataDir,
    pid,
    readyMs: Math.round(performance.now() - started),
    exited,
    rssMiB: () => treeRssOf(pid),
    cpuSeconds: () => treeCpuSeconds(pid),
    async kill(signal) {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function startServer(kind: "sqlite" | "postgres", env: Record<string, string> = {}): Promise<Server> {
  const p = await prepare(kind);
  const s = await launch(p, env);
  return {
    ...s,
    async stop() {
      await s.kill("SIGTERM");
      await p.drop();
    },
  };
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadOptions {
  base: string;
  ca: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  request: () => { method: "POST" | "GET"; path: string; headers: Record<string, string>; body?: string };
  /** The response is right (e.g. 200 and a token in the body). */
  ok: (status: number, body: string) => boolean;
  /** A client certificate (PEM chain) and its key, presented on every connection (mutual TLS). */
  cert?: string;
  key?: string;
  /** Open loop: send this many requests per second whatever the answers' latency (default: closed loop). */
  rate?: number;
}

/**
 * Open loop: `send(due)` every 1/rate seconds while `going()`, whatever the answers' latency; each request's latency
 * is to be measured from `due`, when it was due (no coordinated omission). Resolves once every request has ended.
 */
export async function openLoop(rate: number, send: (due: number) => Promise<void>, going: () => boolean): Promise<void> {
  const interval = 1000 / rate;
  const inflight = new Set<Promise<void>>();
  let next = performance.now();
  while (going()) {
    const due = next;
    next += interval;
    const one = send(due);
    inflight.add(one);
    void one.finally(() => inflight.delete(one));
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inflight);
}

export const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** Closed-loop load: `connections` keep-alive connections, each sending its next request when the last one ends. */
export async function load(o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(o.base, { connections: o.connections, pipelining: 1, connect: { ca: o.ca, ...(o.cert && { cert: o.cert, key: o.key }) } });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let running = true;
  /** One request; its latency counts from `due` (when it was sent, or, open loop, when it was due). */
  const send = async (due: number) => {
    const r = o.request();
    try {
      const res = await pool.request({ method: r.method, path: r.path, headers: r.headers, ...(r.body !== undefined && { body: r.body }) });
      const body = await res.body.text();
      const good = o.ok(res.statusCode, body);
      if (measuring) {
        if (good) latencies.push(performance.now() - due);
        else errors++;
      }
    } catch {
      if (measuring) errors++;
    }
  };
  const worker = async () => {
    while (running) await send(performance.now());
  };
  const workers = o.rate ? [openLoop(o.rate, send, () => running)] : Array.from({ length: o.connections }, worker);
  await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(workers);
  await pool.close();
  return summarise(latencies, errors, seconds);
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The figures of one measured window: correct answers' latencies (ms), errors, and the window's length (s). */
function summarise(latencies: number[], errors: number, seconds: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    errors,
    seconds: round(seconds),
    rps: Math.round(latencies.length / seconds),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

export interface HandshakeOptions extends Omit<LoadOptions, "connections" | "rate"> {
  /** Requests in flight at once, each on its own new connection. */
  concurrency: number;
  /** CPU seconds used so far by the server under test (its processes only, from /proc). */
  serverCpuSeconds: () => number;
}

export interface HandshakeResult extends LoadResult {
  /** The server's CPU time (user + system, every thread and process) per answered request, in ms. */
  serverCpuMsPerRequest: number;
}

/**
 * Closed loop with a new TLS connection (full handshake, client certificate, no session resumption: every request
 * has an agent of its own, and so an empty session cache) per request, answered with Connection: close. The load
 * generator's own handshakes are its bottleneck here, so the figure to compare is the server's CPU per request.
 */
export async function handshakeLoad(o: HandshakeOptions): Promise<HandshakeResult> {
  const url = new URL(o.base);
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let running = true;
  const one = () => new Promise<void>((resolve) => {
    const r = o.request();
    const started = performance.now();
    const req = https.request({
      host: url.hostname, port: url.port, method: r.method, path: r.path, agent: false, ca: o.ca, ...(o.cert && { cert: o.cert, key: o.key }),
      headers: { ...r.headers, connection: "close", ...(r.body !== undefined && { "content-length": Buffer.byteLength(r.body) }) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if (measuring) {
          if (o.ok(res.statusCode ?? 0, Buffer.concat(chunks).toString())) latencies.push(performance.now() - started);
          else errors++;
        }
        resolve();
      });
      res.on("error", () => resolve());
    });
    req.on("error", () => {
      if (measuring) errors++;
      resolve();
    });
    req.end(r.body);
  });
  const loops = Array.from({ length: o.concurrency }, async () => {
    while (running) await one();
  });
  await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
  measuring = true;
  const cpu0 = o.serverCpuSeconds();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  measuring = false;
  const cpu = o.serverCpuSeconds() - cpu0;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(loops);
  const answered = latencies.length + errors;
  return { ...summarise(latencies, errors, seconds), serverCpuMsPerRequest: answered ? round((cpu * 1000) / answered) : 0 };
}

export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? "unknown CPU";
  return `${model}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

export interface Reference {
  base: string;
  pid: number;
  rssMiB(): number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** bench/reference-server.ts as its own process (or `processes` of them), with the TLS material of `server`. */
export async function startReference(server: Server, processes = 1): Promise<Reference> {
  const port = await freePort();
  const tls = path.join(server.dataDir, "tls");
  const child = spawn(process.execPath, [path.join(ROOT, "bench/reference-server.ts"), String(port), path.join(tls, "server.crt"), path.join(tls, "server.key"), String(processes)], { stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    child.once("exit", () => reject(new Error("the reference server exited")));
  });
  return {
    base: `https://localhost:${port}`,
    pid: child.pid ?? 0,
    rssMiB: () => treeRssOf(child.pid ?? 0),
    cpuSeconds: () => treeCpuSeconds(child.pid ?? 0),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

// ---- the demo realm's client and certificate (x509-idp's first start makes them) --------------------------------

export interface Demo {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

export const demoOf = (s: { dataDir: string }) => JSON.parse(fs.readFileSync(path.join(s.dataDir, "demo-credentials.json"), "utf8")) as Demo;
export const TOKEN_PATH = "/realms/demo/protocol/openid-connect/token";
export const hasToken = (status: number, body: string) => status === 200 && body.includes('"access_token"');
/** The demo user's client certificate. */
export const demoCertificate = (s: { dataDir: string }) => ({
  cert: fs.readFileSync(path.join(s.dataDir, "demo-pki", "demo.crt"), "utf8"),
  key: fs.readFileSync(path.join(s.dataDir, "demo-pki", "demo.key"), "utf8"),
});
/** The demo service client's certificate (client credentials with tls_client_auth, issue #14). */
export const demoServiceCertificate = (s: { dataDir: string }) => ({
  cert: fs.readFileSync(path.join(s.dataDir, "demo-pki", "demo-service.crt"), "utf8"),
  key: fs.readFileSync(path.join(s.dataDir, "demo-pki", "demo-service.key"), "utf8"),
});

/** Client credentials of the demo service client: its certificate authenticates it, no secret. */
export function serviceCredentialsRequest(): () => { method: "POST"; path: string; headers: Record<string, string>; body: string } {
  return () => ({ method: "POST", path: TOKEN_PATH, headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials&client_id=demo-service" });
}

/** The certificate direct grant's request (the headline request). */
export function certificateGrantRequest(s: { dataDir: string }): () => { method: "POST"; path: string; headers: Record<string, string>; body: string } {
  const d = demoOf(s);
  const body = new URLSearchParams({ grant_type: "password", client_id: d.clientId, client_secret: d.clientSecret, scope: "openid" }).toString();
  return () => ({ method: "POST", path: TOKEN_PATH, headers: { "content-type": "application/x-www-form-urlencoded" }, body });
}
