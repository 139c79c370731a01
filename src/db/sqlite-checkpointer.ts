// Checkpoints a SQLite database in WAL mode from a worker thread, so that copying the WAL back into the database
// (a fifth of a busy server's time) is not done by whichever request fills it, and the WAL stays small under
// continuous writes:
//   - every 100 ms a PASSIVE checkpoint copies what was written since (it never waits for the server's connection);
//   - a PASSIVE checkpoint alone never lets the WAL start over under steady load: the server's connection starts it
//     over only when it begins a transaction at a moment when everything was copied, and it writes faster than that
//     moment comes. So once the WAL holds RESTART_AFTER_BYTES, a RESTART checkpoint takes the writer's lock for the
//     little that is left to copy (a few ms: the PASSIVE rounds did the rest), and the next write starts the WAL over;
//   - a RESTART holds the writer's lock while it waits for readers still using the WAL: a reader in another process
//     (a backup, the CLI, a monitoring query) would stall every write of the server for as long as the wait lasts
//     (measured: 80–110 ms every time a 100 ms count ran beside the soak). So no RESTART is tried while a reader keeps
//     the PASSIVE rounds from copying on (its snapshot is older than the WAL's end, and the count of frames copied
//     stands still from one round to the next; frames left only because the server wrote during the round are no
//     reader's, and a RESTART takes them in a few ms), unless the WAL passed
//     FORCE_AFTER_BYTES, and a RESTART waits RESTART_WAIT_MS at most, then gives up until the next round;
//   - journal_size_limit (openDatabase) trims a file that grew beyond it, and the server's connection keeps an
//     automatic checkpoint at a larger size as a safety net, should this thread ever fall behind.
// Started by openDatabase() for file databases; a pool of workers has its primary process do it (cli/workers.ts).
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";

const EVERY_MS = 100;
const FAST_MS = 5;
/** After a RESTART that found the database busy. */
const BUSY_MS = 25;
/** Past this much WAL, the checkpoint makes the WAL start over (bench/RESULTS.md: the soak's WAL sizes). */
export const RESTART_AFTER_BYTES = 8 * 1024 * 1024;
/** Past this much WAL, a RESTART is tried even while a reader holds an old snapshot (the WAL stays under 64 MiB). */
const FORCE_AFTER_BYTES = 32 * 1024 * 1024;
/** How long a RESTART may hold the server's writes while it waits for readers (the connection's busy timeout). */
const RESTART_WAIT_MS = 10;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Checkpoints `file` from a worker thread; `inline`: on this thread's event loop instead (a pool's primary process,
 * cli/workers.ts, which has nothing else to do and saves the thread's memory).
 */
export function startCheckpointer(file: string, o: { inline: boolean } = { inline: false }): Checkpointer {
  if (o.inline) {
    const rounds = checkpointRounds(file, true);
    return { stop: async () => rounds.stop() };
  }
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

/** The rounds on this thread, until stop() (one last round, then the connection is closed). */
function checkpointRounds(file: string, unref: boolean): { stop(): void } {
  // timeout is the busy timeout: a RESTART waits this long at most for the server's current write and for readers;
  // busy: a later round tries again.
  const db = new BetterSqlite3(file, { timeout: RESTART_WAIT_MS });
  const pageSize = Number(db.pragma("page_size", { simple: true }));
  const checkpoint = (mode: "PASSIVE" | "RESTART") => (db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0];
  /** Frames copied as of the previous round: a reader's old snapshot keeps the count from moving on. */
  let copied = 0;
  /** One round; returns when to look again (ms). */
  const round = (): number => {
    try {
      const passive = checkpoint("PASSIVE");
      const frames = passive?.log ?? 0;
      const checkpointed = passive?.checkpointed ?? 0;
      const bytes = frames * pageSize;
      // Frames left behind while the copy moved on are the server's writes made during it (a RESTART takes them in
      // a few ms); frames left behind while it stood still are a reader's snapshot.
      const pinned = checkpointed < frames && checkpointed <= copied;
      copied = checkpointed;
      if (bytes <= RESTART_AFTER_BYTES) return bytes > RESTART_AFTER_BYTES / 2 ? FAST_MS : EVERY_MS;
      // A reader's snapshot kept frames from being copied: a RESTART would hold the writes until that reader is done.
      if (pinned && bytes <= FORCE_AFTER_BYTES) return EVERY_MS;
      const restart = checkpoint("RESTART");
      if (!restart?.busy) copied = 0;
      return restart?.busy ? BUSY_MS : FAST_MS;
    } catch {
      return EVERY_MS; // busy or locked: again later
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number) => {
    timer = setTimeout(() => schedule(round()), ms);
    if (unref) timer.unref();
  };
  schedule(EVERY_MS);
  return {
    stop() {
      clearTimeout(timer);
      round();
      db.close();
    },
  };
}

if (!isMainThread && parentPort && (workerData as { file?: string } | null)?.file) {
  const rounds = checkpointRounds((workerData as { file: string }).file, false);
  parentPort.on("message", (m) => {
    if (m === "stop") {
      rounds.stop();
      parentPort?.close();
    }
  });
}
