// The soak and the fault run of `npm run bench` (issue #12).
//
// Soak: certificate direct grants, open loop, at half the peak measured on the same fresh server just before, for
// BENCH_SOAK_SECONDS (600), sampled every 10 s: throughput, errors, p50/p99/max (latency from when each request was
// due, so a stall counts in full), the server's RSS, the SQLite WAL's size, the stored token rows.
//
// Fault run: kill -9 under load, five times, restarting each time; then (PostgreSQL) the database cut for 10 s under
// load through a TCP forwarder. Counted: acknowledged logins against LOGIN events and stored tokens afterwards, answers
// by status (5xx other than 503), the time to recover.
import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { fetch, Pool } from "undici";
import { storageId } from "../src/oidc/adapter.ts";
import { startForwarder } from "../test/helpers/tcp-forwarder.ts";
import { certificateGrantRequest, demoCertificate, freePort, hasToken, launch, load, openLoop, percentile, prepare, ROOT, type Launched, type Prepared } from "./lib.ts";

const WINDOW_SECONDS = 10;

export interface SoakWindow {
  /** Seconds since the soak began, at the window's end. */
  at: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  rssMiB: number;
  walMiB: number | undefined;
  tokenRows: Record<string, number>;
  /** From the server's own /metrics: its longest event-loop stall, and time in garbage collection, in the window. */
  serverLagMaxMs: number;
  gcMs: number;
}

export interface SoakResult {
  kind: "sqlite" | "postgres";
  /** half: open loop at half the peak; peak: closed loop, every connection busy all the time. */
  mode: "half" | "peak";
  peak: number;
  /** The soak's request rate (open loop), or, at peak, the rate it reached. */
  rate: number;
  seconds: number;
  windows: SoakWindow[];
  /** Answers by status over the whole soak (0: no answer). */
  statuses: Record<string, number>;
  /** Token lifetimes (s) of the demo realm, for the row bound. */
  lifetimes: Record<string, number>;
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Stored provider rows by model (AccessToken, RefreshToken, Grant…), read from the database beside the server. SQLite
 * is read in a worker thread, so that counting never holds up the load generator's event loop (and its latencies).
 */
function rowCounter(p: Prepared): { count(): Promise<Record<string, number>>; close(): Promise<void> } {
  const sql = `SELECT "model", COUNT(*) AS n FROM "OidcPayload" GROUP BY "model"`;
  if (p.kind === "sqlite") {
    const worker = new Worker(`
      const { parentPort, workerData } = require("node:worker_threads");
      const Database = require("node:module").createRequire(workerData.root)("better-sqlite3");
      let db;
      parentPort.on("message", () => {
        db ??= new Database(workerData.file, { readonly: true, fileMustExist: true });
        parentPort.postMessage(Object.fromEntries(db.prepare(workerData.sql).all().map((r) => [r.model, Number(r.n)])));
      });`, { eval: true, workerData: { root: path.join(ROOT, "package.json"), file: p.url.replace(/^file:/, ""), sql } });
    let failure: Error | undefined;
    worker.on("error", (e) => (failure = e));
    return {
      count: () => new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        worker.once("message", resolve);
        worker.postMessage("count");
      }),
      async close() {
        await worker.terminate();
      },
    };
  }
  const client = new pg.Client({ connectionString: p.url });
  const connected = client.connect();
  return {
    async count() {
      await connected;
      return Object.fromEntries((await client.query<{ model: string; n: string }>(sql)).rows.map((r) => [r.model, Number(r.n)]));
    },
    close: () => client.end(),
  };
}

function walMiB(p: Prepared): number | undefined {
  if (p.kind !== "sqlite") return undefined;
  try {
    return round(fs.statSync(`${p.url.replace(/^file:/, "")}-wal`).size / 2 ** 20);
  } catch {
    return 0;
  }
}

export async function soak(kind: "sqlite" | "postgres", mode: "half" | "peak", seconds: number, connections: number, log: (line: string) => void): Promise<SoakResult> {
  const p = await prepare(kind);
  const metricsPort = await freePort();
  const server = await launch(p, { IDP_METRICS_PORT: String(metricsPort) });
  const rows = rowCounter(p);
  let gcBefore = 0;
  /** The server's event-loop stall since the last scrape (prom-client resets it on each), and its GC time so far. */
  const serverSide = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const lag = Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? 0);
    const gc = [...text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const window = { serverLagMaxMs: round(lag * 1000), gcMs: round((gc - gcBefore) * 1000) };
    gcBefore = gc;
    return window;
  };
  try {
    const request = certificateGrantRequest(server);
    await serverSide();
    const peakRun = await load({ base: server.base, ca: server.ca, ...demoCertificate(server), connections, seconds: 10, warmupSeconds: 2, ok: hasToken, request });
    const rate = Math.max(1, Math.round(peakRun.rps / 2));
    log(`soak · ${kind}: peak ${peakRun.rps} req/s, soaking ${mode === "half" ? `at ${rate} req/s` : "at peak"} for ${seconds} s`);
    const pool = new Pool(server.base, { connections, pipelining: 1, connect: { ca: server.ca, ...demoCertificate(server) } });
    const statuses: Record<string, number> = {};
    let latencies: number[] = [];
    let errors = 0;
    const send = async (due: number) => {
      const r = request();
      let status = 0;
      let good = false;
      try {
        const res = await pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body });
        status = res.statusCode;
        good = hasToken(status, await res.body.text());
      } catch {
        // no answer: counted as status 0
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (good) latencies.push(performance.now() - due);
      else errors++;
    };
    const windows: SoakWindow[] = [];
    const begin = performance.now();
    let windowStart = begin;
    // Every 10 s, on its own timer: the window's answers, then the server's memory, WAL and rows.
    const sampling: Promise<void>[] = [];
    const sampler = setInterval(() => {
      const took = latencies;
      const failed = errors;
      latencies = [];
      errors = 0;
      const now = performance.now();
      const elapsed = (now - windowStart) / 1000;
      windowStart = now;
      const sorted = Float64Array.from(took).sort();
      const partial = {
        at: Math.round((now - begin) / 1000), requests: took.length, errors: failed, rps: Math.round(took.length / elapsed),
        p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? 0),
        rssMiB: server.rssMiB(), walMiB: walMiB(p),
      };
      sampling.push(Promise.all([rows.count(), serverSide()]).then(([tokenRows, side]) => {
        const w: SoakWindow = { ...partial, tokenRows, ...side };
        windows.push(w);
        log(`soak · ${kind} · ${w.at} s: ${w.rps} req/s, p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max} ms (server stall ${w.serverLagMaxMs} ms, GC ${w.gcMs} ms), ${w.errors} errors, RSS ${w.rssMiB} MiB${w.walMiB === undefined ? "" : `, WAL ${w.walMiB} MiB`}, token rows ${Object.values(tokenRows).reduce((a, b) => a + b, 0)}`);
      }));
    }, WINDOW_SECONDS * 1000);
    const end = begin + seconds * 1000;
    const going = () => performance.now() < end;
    if (mode === "half") await openLoop(rate, send, going);
    else await Promise.all(Array.from({ length: connections }, async () => { while (going()) await send(performance.now()); }));
    clearInterval(sampler);
    await Promise.all(sampling);
    windows.sort((a, b) => a.at - b.at);
    await pool.close();
    const answered = windows.reduce((n, w) => n + w.requests, 0);
    return { kind, mode, peak: peakRun.rps, rate: mode === "half" ? rate : Math.round(answered / seconds), seconds, windows, statuses, lifetimes: { AccessToken: 300, RefreshToken: 1800, Grant: 1800 } };
  } finally {
    await rows.close();
    await server.kill("SIGTERM");
    await p.drop();
  }
}

// ---- faults ----------------------------------------------------------------------------------------------------

/** Closed-loop certificate grants until stop(): acknowledged tokens, answers by status, and when each status came. */
function background(server: Launched, connections: number) {
  const pool = new Pool(server.base, { connections, pipelining: 1, connect: { ca: server.ca, ...demoCertificate(server) } });
  const request = certificateGrantRequest(server);
  const tokens: string[] = [];
  const statuses: Record<string, number> = {};
  const answers: { at: number; status: number }[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const r = request();
      let status = 0;
      try {
        const res = await pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body });
        status = res.statusCode;
        const body = await res.body.text();
        // Access tokens are JWTs (no row): the refresh token stands for the login's stored tokens.
        if (hasToken(status, body)) {
          const t = JSON.parse(body) as { access_token: string; refresh_token?: string };
          tokens.push(t.refresh_token ?? t.access_token);
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20)); // the server is gone: do not spin
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      answers.push({ at: performance.now(), status });
    }
  };
  const workers = Array.from({ length: connections }, worker);
  return {
    tokens, statuses, answers,
    async stop() {
      running = false;
      await Promise.all(workers);
      await pool.close().catch(() => undefined);
    },
  };
}

export interface Audit {
  acknowledged: number;
  loginEvents: number;
  tokensStored: number;
}

/** After the faults: acknowledged logins against the LOGIN events and the tokens in the database (refresh tokens; opaque access tokens). */
async function audit(p: Prepared, tokens: readonly string[]): Promise<Audit> {
  const ids = tokens.map(storageId);
  const query = async (run: (sql: string, params: unknown[]) => Promise<number>) => {
    const loginEvents = await run(`SELECT COUNT(*) AS n FROM "Event" e JOIN "Realm" r ON r."id" = e."realmId" WHERE r."name" = 'demo' AND e."type" = 'LOGIN'`, []);
    let tokensStored = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      tokensStored += await run(`SELECT COUNT(*) AS n FROM "OidcPayload" WHERE "model" IN ('RefreshToken', 'AccessToken') AND "id" IN (${chunk.map((_, j) => (p.kind === "sqlite" ? "?" : `$${j + 1}`)).join(", ")})`, chunk);
    }
    return { acknowledged: tokens.length, loginEvents, tokensStored };
  };
  if (p.kind === "sqlite") {
    const db = new BetterSqlite3(p.url.replace(/^file:/, ""), { readonly: true });
    try {
      return await query(async (sql, params) => Number((db.prepare(sql).get(...params) as { n: number }).n));
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: p.url });
  await c.connect();
  try {
    return await query(async (sql, params) => Number((await c.query<{ n: string }>(sql, params)).rows[0]?.n));
  } finally {
    await c.end();
  }
}

export interface KillResult extends Audit {
  kind: "sqlite" | "postgres";
  kills: number;
  statuses: Record<string, number>;
  /** Each restart: from spawn until /health/ready answered. */
  restartMs: number[];
}

export async function killRuns(kind: "sqlite" | "postgres", kills: number, connections: number, log: (line: string) => void): Promise<KillResult> {
  const p = await prepare(kind);
  const tokens: string[] = [];
  const statuses: Record<string, number> = {};
  const restartMs: number[] = [];
  try {
    for (let i = 0; i <= kills; i++) {
      const server = await launch(p);
      if (i > 0) restartMs.push(server.readyMs);
      if (i === kills) {
        await server.kill("SIGTERM");
        break;
      }
      const load = background(server, connections);
      await new Promise((r) => setTimeout(r, 3000));
      await server.kill("SIGKILL");
      await load.stop();
      tokens.push(...load.tokens);
      for (const [s, n] of Object.entries(load.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
      log(`faults · ${kind} · kill -9 #${i + 1}: ${load.tokens.length} tokens answered before it`);
    }
    const a = await audit(p, tokens);
    log(`faults · ${kind}: ${a.acknowledged} acknowledged logins, ${a.loginEvents} LOGIN events, ${a.tokensStored} of their tokens stored; restarts ${restartMs.join(", ")} ms`);
    return { kind, kills, statuses, restartMs, ...a };
  } finally {
    await p.drop();
  }
}

export interface OutageResult extends Audit {
  outageSeconds: number;
  statuses: Record<string, number>;
  /** From the database's return to the first login answered 200. */
  recoveryMs: number;
}

export async function outageRun(outageSeconds: number, connections: number, log: (line: string) => void): Promise<OutageResult> {
  let forwarder: Awaited<ReturnType<typeof startForwarder>> | undefined;
  const p = await prepare("postgres");
  try {
    const direct = new URL(p.url);
    forwarder = await startForwarder({ host: direct.hostname, port: Number(direct.port || 5432) });
    const through = new URL(p.url);
    through.port = String(forwarder.port);
    const server = await launch({ ...p, url: through.toString() });
    try {
      const load = background(server, connections);
      await new Promise((r) => setTimeout(r, 3000));
      await forwarder.stop();
      log(`faults · postgres: database cut for ${outageSeconds} s`);
      await new Promise((r) => setTimeout(r, outageSeconds * 1000));
      await forwarder.start();
      const back = performance.now();
      let recoveryMs = -1;
      for (;;) {
        const ok = load.answers.find((a) => a.at >= back && a.status === 200);
        if (ok) {
          recoveryMs = Math.round(ok.at - back);
          break;
        }
        if (performance.now() - back > 30_000) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 3000));
      await load.stop();
      await server.kill("SIGTERM"); // flushes what is queued
      const a = await audit(p, load.tokens);
      log(`faults · postgres outage: ${JSON.stringify(load.statuses)}, recovered in ${recoveryMs} ms, ${a.acknowledged} acknowledged, ${a.loginEvents} LOGIN events, ${a.tokensStored} tokens stored`);
      return { outageSeconds, statuses: load.statuses, recoveryMs, ...a };
    } finally {
      await server.kill("SIGKILL");
    }
  } finally {
    await forwarder?.close();
    await p.drop();
  }
}
