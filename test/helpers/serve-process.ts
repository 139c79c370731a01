// Runs the real `x509-idp serve` as a child process (what an operator starts), for tests of signals, crashes, locks,
// timeouts and several nodes.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT } from "./cli.ts";
import type { TestDatabase } from "./db.ts";
import { waitForPort } from "./ports.ts";

export interface ServeProcess {
  child: ChildProcess;
  /** Everything it wrote so far (stdout and stderr). */
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once `port` accepts connections; fails at once if the process exits first. */
  listening(port: number): Promise<void>;
}

export interface ServeOptions {
  /** Where it runs (default: the data folder). */
  cwd?: string;
  /** Added to (or replacing) the database, data folder and host. */
  env?: Record<string, string>;
  /** A shell line run before `exec x509-idp serve` (e.g. `umask 022`). */
  shellPrefix?: string;
}

export function serveProcess(db: Pick<TestDatabase, "url" | "dataDir">, o: ServeOptions = {}): ServeProcess {
  const bin = path.join(ROOT, "bin/x509-idp");
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATABASE_URL: db.url, IDP_DATA_DIR: db.dataDir, IDP_HOST: "127.0.0.1", IDP_LOG_LEVEL: "warn", ...o.env };
  const child = o.shellPrefix
    ? spawn("sh", ["-c", `${o.shellPrefix}; exec "${bin}" serve`], { cwd: o.cwd ?? db.dataDir, env, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(bin, ["serve"], { cwd: o.cwd ?? db.dataDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    listening: (port) => waitForPort(port, { ms: 60_000, exitCode: () => child.exitCode, output: () => out }),
  };
}
