// Loopback ports and the servers the tests start on them.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/** A loopback TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

export interface WaitOptions {
  ms?: number;
  /** What is starting, for the messages ("the proxy"); default: "nothing listens". */
  name?: string;
  /** The process's exit code once it has exited (null while it runs): waiting stops at once. */
  exitCode?: () => number | null;
  /** The process's output so far, appended to the messages. */
  output?: () => string;
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, o: WaitOptions = {}): Promise<void> {
  const end = Date.now() + (o.ms ?? 10_000);
  const tail = () => (o.output ? `: ${o.output()}` : "");
  for (;;) {
    const code = o.exitCode?.() ?? null;
    if (code !== null) throw new Error(`${o.name ?? "the server"} exited (${code})${tail()}`);
    if (await listening(port)) return;
    if (Date.now() > end) throw new Error(`${o.name ? `${o.name} does not listen` : "nothing listens"} on 127.0.0.1:${port}${tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A Debian server's binary: on PATH, or in /usr/sbin or /sbin, which are not on every user's PATH. */
export function sbin(tool: string): string {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin"]) {
    if (dir && fs.existsSync(path.join(dir, tool))) return path.join(dir, tool);
  }
  return tool;
}
