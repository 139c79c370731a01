// Checkpoints a SQLite database in WAL mode from a worker thread: every second, PASSIVE (it never waits for the
// server's connection, which would then wait for it). Once a checkpoint has caught up, the next write starts the
// WAL over, and journal_size_limit (set by openDatabase) trims the file. Started by openDatabase() for file
// databases, which then turns the connection's own automatic checkpoints off.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";

const EVERY_MS = 1000;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string): Checkpointer {
  const worker = new Worker(new URL(import.meta.url), { workerData: { file } });
  worker.unref();
  return {
    async stop() {
      worker.postMessage("stop");
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
        worker.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}

if (!isMainThread && parentPort && (workerData as { file?: string } | null)?.file) {
  const db = new BetterSqlite3((workerData as { file: string }).file, { timeout: 100 });
  db.pragma("busy_timeout = 100");
  const checkpoint = () => {
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // busy or locked: the next round tries again
    }
  };
  const timer = setInterval(checkpoint, EVERY_MS);
  parentPort.on("message", (m) => {
    if (m === "stop") {
      clearInterval(timer);
      checkpoint();
      db.close();
      parentPort?.close();
    }
  });
}
