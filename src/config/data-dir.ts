// The data folder holds the SQLite database, the TLS key, the secret key and the demo credentials: only the account
// that runs x509-idp may read it. Every process that opens it first sets its umask to 077 (whatever the shell's), so
// every file it creates there (the database and its -wal and -shm files included) is 0600 and every folder 0700;
// what an older release or another tool left readable by others is tightened the same way.
import fs from "node:fs";
import path from "node:path";

export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

/** Files or folders whose mode could not be tightened (not ours, a read-only mount): for a warning. */
export function secureDataDir(dataDir: string): string[] {
  process.umask(0o077);
  fs.mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  const refused: string[] = [];
  const tighten = (p: string, mode: number) => {
    try {
      if ((fs.lstatSync(p).mode & 0o777 & ~mode) !== 0) fs.chmodSync(p, mode);
    } catch {
      refused.push(p);
    }
  };
  const walk = (dir: string) => {
    tighten(dir, DATA_DIR_MODE);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) tighten(p, DATA_FILE_MODE); // symbolic links are left alone, and what they point to
    }
  };
  walk(dataDir);
  return refused;
}
