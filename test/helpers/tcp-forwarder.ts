// A TCP forwarder on a loopback port in front of a real server (PostgreSQL), which a test stops to make an outage
// (the listener closed, every forwarded connection cut) and starts again on the same port.
import net from "node:net";
import { freePort } from "./ports.ts";

export interface Forwarder {
  port: number;
  /** Cuts every connection and refuses new ones. */
  stop(): Promise<void>;
  /** Accepts and forwards again, on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startForwarder(target: { host: string; port: number }): Promise<Forwarder> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = () => new Promise<void>((resolve, reject) => {
    const s = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const x of [client, upstream]) {
        sockets.add(x);
        x.on("close", () => sockets.delete(x));
        x.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve());
    server = s;
  });
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const x of sockets) x.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return { port, stop, start: listen, close: stop };
}

/** A forwarder in front of a PostgreSQL database, and the database's URL through it (what a test cuts). */
export async function forwardTo(databaseUrl: string): Promise<{ fwd: Forwarder; url: string }> {
  const url = new URL(databaseUrl);
  const fwd = await startForwarder({ host: url.hostname, port: Number(url.port || 5432) });
  url.port = String(fwd.port);
  return { fwd, url: url.toString() };
}
