// Checkpoints a SQLite database in WAL mode from a worker thread, so that copying the WAL back into the database
// (a fifth of a busy server's time) is not done by whichever request fills it, and the WAL stays small under
// continuous writes:
//   - every 100 ms a PASSIVE checkpoint copies what was written since (it never waits for the server's connection);
//   - a PASSIVE checkpoint alone never lets the WAL start over under steady load: the server's connection starts it
//     over only when it begins a transaction at a moment when everything was copied, and it writes faster than that
//     moment comes. So once the WAL holds RESTART_AFTER_BYTES, a RESTART checkpoint takes the writer's lock for the
//     little that is left to copy (a few ms: the PASSIVE rounds did the rest), and the next write starts the WAL over;
//   - journal_size_limit (openDatabase) trims a file that grew beyond it, and the server's connection keeps an
//     automatic checkpoint at a larger size as a safety net, should this thread ever fall behind.
// Started by openDatabase() for file databases.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";

const EVERY_MS = 100;
const FAST_MS = 5;
/** Past this much WAL, the checkpoint makes the WAL start over (bench/RESULTS.md: the soak's WAL sizes). */
export const RESTART_AFTER_BYTES = 8 * 1024 * 1024;

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

interface CheckpointResult {
  busy: number;
  /** Frames in the WAL since it last started over. */
  log: number;
  checkpointed: number;
}

if (!isMainThread && parentPort && (workerData as { file?: string } | null)?.file) {
  const db = new BetterSqlite3((workerData as { file: string }).file, { timeout: 100 });
  // RESTART waits this long at most for the server's current write; busy: the next round tries again.
  db.pragma("busy_timeout = 100");
  const pageSize = Number(db.pragma("page_size", { simple: true }));
  const checkpoint = (mode: "PASSIVE" | "RESTART") => (db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0];
  /** One round; returns how full the WAL still is (bytes since it last started over). */
  const round = (): number => {
    try {
      const passive = checkpoint("PASSIVE");
      const bytes = (passive?.log ?? 0) * pageSize;
      if (bytes <= RESTART_AFTER_BYTES) return bytes;
      const restart = checkpoint("RESTART");
      return restart?.busy ? bytes : 0;
    } catch {
      return RESTART_AFTER_BYTES; // busy or locked: soon again
    }
  };
  let timer: NodeJS.Timeout | undefined;
  // A WAL past half the restart size (or a RESTART that found the writer busy) is looked at again at once.
  const schedule = (bytes: number) => {
    timer = setTimeout(() => schedule(round()), bytes > RESTART_AFTER_BYTES / 2 ? FAST_MS : EVERY_MS);
  };
  schedule(0);
  parentPort.on("message", (m) => {
    if (m === "stop") {
      clearTimeout(timer);
      round();
      db.close();
      parentPort?.close();
    }
  });
}
