// Where the server's main thread spends its time on the certificate direct grant: the server runs with --cpu-prof
// under closed-loop load, and the profile's self time is summed by component (the file each sample's function is in)
// and divided by the grants answered meanwhile (µs per grant).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { certificateGrantRequest, demoCertificate, handshakeLoad, hasToken, launch, load, prepare } from "./lib.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  /** µs on CLOCK_MONOTONIC, the clock of process.hrtime() in the load generator's process too. */
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  component: string;
  share: number;
  microsPerGrant: number;
}

export interface ProfileResult {
  grants: number;
  busyMicrosPerGrant: number;
  rows: ProfileRow[];
  /** The functions with the most self time: "name (file:line)" and µs per grant. */
  top: { fn: string; microsPerGrant: number }[];
}

/** The component a function belongs to, from its file (first rule that matches). */
const COMPONENTS: [string, (url: string, fn: string) => boolean][] = [
  ["GC", (_u, f) => f === "(garbage collector)"],
  ["SQLite (better-sqlite3, db/)", (u) => u.includes("better-sqlite3") || u.includes("/src/db/")],
  ["Prisma (client and adapter)", (u) => u.includes("@prisma") || u.includes("/generated/")],
  ["audit events (events/)", (u) => u.includes("/src/events/")],
  ["token storage and JWT access tokens (oidc/adapter.ts, access-tokens.ts)", (u) => /\/src\/oidc\/(adapter|access-tokens)\.ts/.test(u)],
  ["oidc-provider", (u) => u.includes("oidc-provider")],
  ["JOSE (ID token signature, jose)", (u) => u.includes("/jose/")],
  ["Koa and routing", (u) => /\/node_modules\/(koa|@koa|koa-compose|path-to-regexp)/.test(u)],
  ["x509-idp HTTP layer (http/)", (u) => u.includes("/src/http/")],
  ["certificate work (x509/)", (u) => u.includes("/src/x509/")],
  ["users and login (users/, grants/)", (u) => u.includes("/src/users/") || u.includes("/src/oidc/grants/")],
  ["other x509-idp code", (u) => u.includes("/src/")],
  ["TLS and HTTP (Node)", (u) => /node:(_tls|tls|_http|http|https|net|stream|internal\/(tls|http|streams|stream_base|js_stream))/.test(u) || /node:internal\/(tls|http|net|streams)/.test(u)],
  ["crypto (Node)", (u) => u.includes("node:internal/crypto") || u.includes("node:crypto")],
  ["other Node internals", (u) => u.startsWith("node:")],
  ["other packages", (u) => u.includes("node_modules")],
  ["native (unattributed: (program), builtins)", () => true],
];

/** Sums the samples taken in [from, to] (µs, CLOCK_MONOTONIC): the measured window, not start-up nor warm-up. */
function summarise(profile: CpuProfile, grants: number, from: number, to: number): ProfileResult {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) return;
    if (!node || node.callFrame.functionName === "(idle)") return;
    const { url, functionName } = node.callFrame;
    const component = (COMPONENTS.find(([, match]) => match(url, functionName)) as [string, unknown])[0];
    totals.set(component, (totals.get(component) ?? 0) + dt);
    const where = `${functionName || "(anonymous)"} (${url.replace(/^.*\/node_modules\//, "").replace(/^.*\/src\//, "src/").replace(/^file:\/\//, "")}:${(node.callFrame as { lineNumber?: number }).lineNumber ?? 0})`;
    functions.set(where, (functions.get(where) ?? 0) + dt);
    busy += dt;
  });
  const rows = [...totals].sort((a, b) => b[1] - a[1]).map(([component, micros]) => ({
    component,
    share: Math.round((micros / busy) * 1000) / 10,
    microsPerGrant: Math.round(micros / grants),
  }));
  const top = [...functions].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([fn, micros]) => ({ fn, microsPerGrant: Math.round(micros / grants) }));
  return { grants, busyMicrosPerGrant: Math.round(busy / grants), rows, top };
}

/**
 * A fresh SQLite server with --cpu-prof, `seconds` of closed-loop certificate grants, then its profile summed up.
 * `handshake`: each request on a new connection (bench/lib.ts handshakeLoad), `connections` of them at once; `rate`:
 * open loop at that many requests per second (keep-alive only).
 */
export async function profileRun(seconds: number, connections: number, mode: "keep-alive" | "handshake" = "keep-alive", rate?: number): Promise<ProfileResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "x509idp-profile-"));
  const p = await prepare("sqlite");
  try {
    const s = await launch(p, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` });
    const now = () => Number(process.hrtime.bigint() / 1000n);
    const warmup = 2;
    const from = now() + warmup * 1_000_000;
    const common = { base: s.base, ca: s.ca, ...demoCertificate(s), seconds, warmupSeconds: warmup, ok: hasToken, request: certificateGrantRequest(s) };
    const r = mode === "handshake"
      ? await handshakeLoad({ ...common, concurrency: connections, serverCpuSeconds: () => s.cpuSeconds() })
      : await load({ ...common, connections, ...(rate && { rate }) });
    const to = from + r.seconds * 1_000_000;
    await s.kill("SIGTERM");
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (the checkpointer has its own).
    const file = fs.readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    if (!file) throw new Error("the server wrote no CPU profile");
    return summarise(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as CpuProfile, r.requests, from, to);
  } finally {
    await p.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  // node bench/profile.ts [--handshake] [--rate=<requests per second>]
  const handshake = process.argv.includes("--handshake");
  const rate = Number(process.argv.find((a) => a.startsWith("--rate="))?.slice(7) ?? 0) || undefined;
  const r = await profileRun(Number(process.env.BENCH_SECONDS ?? 10), Number(process.env.BENCH_CONNECTIONS ?? (handshake ? 8 : 16)), handshake ? "handshake" : "keep-alive", rate);
  console.log(JSON.stringify(r, null, 2));
}
