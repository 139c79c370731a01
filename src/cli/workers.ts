// IDP_WORKERS: several server processes on the same ports (node:cluster; the primary accepts the connections and
// hands them to the workers in turn). What is shared and what is each process's own:
//   - the database, the signing keys and the revocation list of tokens are in the database: shared;
//   - caches (realms' providers, clients, CRLs, OCSP answers, LDAP connections) are each worker's; a realm changed
//     through one worker is dropped by the others at once (the cluster's change feed below on SQLite, LISTEN/NOTIFY
//     on PostgreSQL);
//   - the primary holds the SQLite database's single-server lock (db/sqlite-lock.ts: another server is refused, this
//     server's workers are not) and runs the WAL checkpoints; the workers write through their own connections and
//     wait for each other's commits (BEGIN IMMEDIATE and a busy timeout, db/sqlite-adapter.ts);
//   - the first worker migrates, bootstraps and prints the banner; only worker 0 sweeps expired rows;
//   - GET /metrics asks the primary, which adds up every worker's registry (prom-client's AggregatorRegistry).
// A worker that dies is replaced (at once, then with a growing pause if it keeps dying); SIGTERM or SIGINT to the
// primary drains every worker (each one's graceful shutdown) before the primary exits.
import cluster, { type Worker } from "node:cluster";
import type { ChangeFeed, ChangeListener } from "../db/change-feed.ts";
import type { Settings } from "../config/env.ts";
import type { Logger } from "../log.ts";

const SLOT = "X509IDP_WORKER_SLOT";
const FIRST = "X509IDP_WORKER_FIRST";
const COUNT = "X509IDP_WORKERS";
/** A worker that dies within this long of its start counts as failing again: the next one waits longer. */
const STABLE_MS = 10_000;
const RESTART_PAUSE_MS = [0, 250, 1000, 2500, 5000, 10_000];
/** How long the primary waits for the workers' metrics. */
const COLLECT_MS = 3000;

/** This process's place in the pool; undefined when it is no pool's worker. */
export interface WorkerRole {
  /** 0 … count-1; a replacement takes the slot of the worker it replaces. */
  slot: number;
  /** The pool's first worker at start-up: it migrates, bootstraps and prints the banner. */
  first: boolean;
  count: number;
}

export function workerRole(): WorkerRole | undefined {
  if (!cluster.isWorker || process.env[SLOT] === undefined) return undefined;
  return { slot: Number(process.env[SLOT]), first: process.env[FIRST] === "1", count: Number(process.env[COUNT]) };
}

/** This process is to start a pool of workers: IDP_WORKERS above 1, and it is no pool's worker itself. */
export function isPrimary(settings: Pick<Settings, "workers">): boolean {
  return settings.workers > 1 && !cluster.isWorker;
}

type Message =
  | { x509idp: "ready"; httpsPort: number; httpPort?: number; mtlsPort?: number; metricsPort?: number }
  | { x509idp: "changed"; realm: string }
  | { x509idp: "metrics"; id: number; contentType?: string; body?: string }
  | { x509idp: "collect"; id: number }
  | { x509idp: "collected"; id: number; metrics: unknown[] };

const isMessage = (m: unknown): m is Message => typeof m === "object" && m !== null && typeof (m as { x509idp?: unknown }).x509idp === "string";

function send(m: Message): void {
  process.send?.(m);
}

/** Worker side: tells the primary that this worker listens. */
export function reportReady(ports: { httpsPort: number; httpPort?: number; mtlsPort?: number; metricsPort?: number }): void {
  send({ x509idp: "ready", ...ports });
}

/** Worker side, SQLite: realm changes between the workers of this server, through the primary. */
export function clusterChangeFeed(): ChangeFeed {
  const listeners: ChangeListener[] = [];
  const onMessage = (m: unknown) => {
    if (isMessage(m) && m.x509idp === "changed") for (const l of listeners) l(m.realm);
  };
  process.on("message", onMessage);
  return {
    publish: async (realm) => send({ x509idp: "changed", realm }),
    subscribe: (l) => void listeners.push(l),
    close: async () => void process.off("message", onMessage),
  };
}

/** Worker side: answers the primary's collections with this worker's registry, and asks it for everyone's. */
export function clusterMetrics(registry: { getMetricsAsJSON(): Promise<unknown[]> }): () => Promise<{ contentType: string; body: string }> {
  let next = 0;
  const waiting = new Map<number, (a: { contentType: string; body: string }) => void>();
  process.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.x509idp === "collect") {
      void registry.getMetricsAsJSON().then((metrics) => send({ x509idp: "collected", id: m.id, metrics }));
    } else if (m.x509idp === "metrics" && m.body !== undefined && m.contentType !== undefined) {
      waiting.get(m.id)?.({ contentType: m.contentType, body: m.body });
      waiting.delete(m.id);
    }
  });
  return () => new Promise((resolve, reject) => {
    const id = next++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error("the primary process did not answer with the workers' metrics"));
    }, COLLECT_MS * 2);
    waiting.set(id, (a) => {
      clearTimeout(timer);
      resolve(a);
    });
    send({ x509idp: "metrics", id });
  });
}

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  failures: number;
}

/**
 * The primary of a pool of `count` workers: takes the SQLite lock, starts the first worker (it migrates and
 * bootstraps), then the others, the WAL checkpoints, and replaces workers that die, until SIGTERM or SIGINT.
 */
export async function runPrimary(settings: Settings, log: Logger, count: number): Promise<void> {
  const [{ lockForServing }, { startCheckpointer }] = await Promise.all([import("../db/sqlite-lock.ts"), import("../db/sqlite-checkpointer.ts")]);
  const lock = lockForServing(settings.databaseUrl);
  const file = settings.databaseUrl.startsWith("file:") ? settings.databaseUrl.slice("file:".length) : undefined;
  let checkpointer: { stop(): Promise<void> } | undefined;
  const slots: Slot[] = Array.from({ length: count }, () => ({ worker: undefined, startedAt: 0, failures: 0 }));
  let stopping = false;
  let starting = true;
  const collecting = new Map<number, { from: Worker; id: number; got: unknown[][]; left: number; timer: NodeJS.Timeout }>();
  let nextCollection = 0;

  const live = () => slots.flatMap((s) => (s.worker && !s.worker.isDead() ? [s.worker] : []));

  const finishCollection = async (key: number) => {
    const c = collecting.get(key);
    if (!c) return;
    collecting.delete(key);
    clearTimeout(c.timer);
    const { AggregatorRegistry } = await import("prom-client");
    const registry = AggregatorRegistry.aggregate(c.got as Parameters<typeof AggregatorRegistry.aggregate>[0]);
    if (!c.from.isDead()) c.from.send({ x509idp: "metrics", id: c.id, contentType: registry.contentType, body: await registry.metrics() } satisfies Message);
  };

  const onMessage = (from: Worker, m: unknown) => {
    if (!isMessage(m)) return;
    if (m.x509idp === "changed") {
      for (const w of live()) if (w !== from) w.send(m);
    } else if (m.x509idp === "metrics") {
      const key = nextCollection++;
      const workers = live();
      collecting.set(key, { from, id: m.id, got: [], left: workers.length, timer: setTimeout(() => void finishCollection(key), COLLECT_MS) });
      for (const w of workers) w.send({ x509idp: "collect", id: key } satisfies Message);
    } else if (m.x509idp === "collected") {
      const c = collecting.get(m.id);
      if (!c) return;
      c.got.push(m.metrics);
      if (--c.left <= 0) void finishCollection(m.id);
    }
  };

  let failStart: ((e: Error & { exitCode?: number }) => void) | undefined;
  const fork = (index: number, first: boolean): Promise<void> => new Promise((resolve, reject) => {
    const slot = slots[index]!;
    const worker = cluster.fork({ [SLOT]: String(index), [FIRST]: first ? "1" : "0", [COUNT]: String(count) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    let ready = false;
    worker.on("message", (m: unknown) => {
      if (isMessage(m) && m.x509idp === "ready" && !ready) {
        ready = true;
        resolve();
      }
      onMessage(worker, m);
    });
    worker.on("exit", (code, signal) => {
      if (slot.worker === worker) slot.worker = undefined;
      if (stopping) return;
      if (!ready && starting) {
        reject(Object.assign(new Error(`worker ${index} exited (${signal ?? `code ${code}`}) before it listened`), { exitCode: code || 1 }));
        return;
      }
      slot.failures = Date.now() - slot.startedAt < STABLE_MS ? slot.failures + 1 : 0;
      const pause = RESTART_PAUSE_MS[Math.min(slot.failures, RESTART_PAUSE_MS.length - 1)]!;
      log.error({ worker: index, pid: worker.process.pid, code, signal, restartInMs: pause }, "worker exited; starting another");
      setTimeout(() => {
        if (!stopping) fork(index, false).catch(() => undefined);
      }, pause);
      if (!ready) reject(new Error(`worker ${index} exited before it listened`));
    });
  });

  // Signals are taken before the first worker starts (see serve()): the workers get theirs from here.
  let stopped: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopped ??= (async () => {
      stopping = true;
      failStart?.(Object.assign(new Error("stopped"), { exitCode: 0 }));
      log.info({ signal, workers: live().length }, "stopping: draining every worker");
      const exits = live().map((w) => new Promise<void>((resolve) => {
        w.once("exit", () => resolve());
        w.process.kill("SIGTERM");
      }));
      // Each worker drains within IDP_SHUTDOWN_DELAY + IDP_SHUTDOWN_TIMEOUT; one that does not is killed.
      const killer = setTimeout(() => {
        for (const w of live()) w.process.kill("SIGKILL");
      }, settings.shutdown.delayMs + settings.shutdown.timeoutMs + 5000);
      await Promise.all(exits);
      clearTimeout(killer);
      await checkpointer?.stop();
      lock?.release();
      log.info({ signal }, "stopped");
      process.exit(0);
    })();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  try {
    const aborted = new Promise<never>((_, reject) => (failStart = reject));
    await Promise.race([fork(0, true), aborted]);
    if (file && file !== ":memory:") checkpointer = startCheckpointer(file, { inline: true });
    await Promise.race([Promise.all(slots.slice(1).map((_, i) => fork(i + 1, false))), aborted]);
    starting = false;
    log.info({ workers: count, pids: live().map((w) => w.process.pid) }, "all workers listening");
  } catch (e) {
    if (stopping) return; // the signal's stop() exits
    stopping = true;
    for (const w of live()) w.process.kill("SIGTERM");
    await Promise.all(live().map((w) => new Promise((r) => w.once("exit", r))));
    await checkpointer?.stop();
    lock?.release();
    const exitCode = (e as { exitCode?: number }).exitCode ?? 1;
    if (exitCode !== 2) log.error({ err: e }, "could not start the workers");
    process.exit(exitCode);
  }
}
