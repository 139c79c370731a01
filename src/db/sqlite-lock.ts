// One serving process per SQLite database: two servers on one data folder would each cache realms, keys and
// counters the other changes, and each checkpoint the WAL under the other. `serve` takes an exclusive lock next to
// the database file (an SQLite lock file held in exclusive locking mode: the kernel releases it when the process
// dies, so a crash leaves no stale lock) and names itself in an owner file, which a second server quotes when it
// refuses to start. Command-line tools (import, user, events) still work beside a running server.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";

/** A second server on the same SQLite database (main.ts: exit 2 with this message). */
export class DatabaseLockedError extends Error {}

export interface SqliteLock {
  release(): void;
}

export function lockSqliteDatabase(file: string): SqliteLock {
  const lockFile = `${file}.lock`;
  const ownerFile = `${file}.owner`;
  // Private like the rest of the data folder (config/data-dir.ts), whatever the umask at this point.
  fs.closeSync(fs.openSync(lockFile, "a", 0o600));
  const db = new BetterSqlite3(lockFile, { timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== "SQLITE_BUSY") throw e;
    let owner = "another process";
    try {
      const o = JSON.parse(fs.readFileSync(ownerFile, "utf8")) as { pid: number; host: string; since: string };
      owner = `another x509-idp (pid ${o.pid} on ${o.host}, serving since ${o.since})`;
    } catch {
      // no owner file yet: the other one is starting
    }
    throw new DatabaseLockedError(`${owner} serves the SQLite database ${file}: stop it first, or give this server its own IDP_DATA_DIR (or DATABASE_URL)`);
  }
  fs.writeFileSync(ownerFile, `${JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() })}\n`, { mode: 0o600 });
  return {
    release() {
      fs.rmSync(ownerFile, { force: true });
      db.close();
    },
  };
}

/** The lock for serving the database at `databaseUrl`: none for PostgreSQL (any number of nodes) or in memory. */
export function lockForServing(databaseUrl: string): SqliteLock | undefined {
  if (!databaseUrl.startsWith("file:")) return undefined;
  const file = databaseUrl.slice("file:".length);
  if (file === ":memory:") return undefined;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  return lockSqliteDatabase(file);
}
