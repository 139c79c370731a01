// A fresh database for one test file: a new PostgreSQL database (TEST_DB=postgres) or a SQLite file in a new
// temporary folder (TEST_DB=sqlite, the default).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export type TestDbKind = "sqlite" | "postgres";
export const testDbKind: TestDbKind = process.env.TEST_DB === "postgres" ? "postgres" : "sqlite";

export interface TestDatabase {
  kind: TestDbKind;
  url: string;
  /** A new temporary data folder (TLS material, demo credentials; the SQLite file lives here too). */
  dataDir: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = "x509idp-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freshDatabase(kind: TestDbKind = testDbKind): Promise<TestDatabase> {
  const dataDir = tempDir();
  if (kind === "sqlite") {
    return { kind, url: `file:${path.join(dataDir, "idp.db")}`, dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const adminUrl = inject("pgAdminUrl");
  const name = `x509idp_t_${inject("runId")}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
