// Runs once per `vitest run`: checks that PostgreSQL is reachable and gives the run an id; at the end, drops every
// database the run created (test files name theirs x509idp_t_<run>_…).
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

declare module "vitest" {
  export interface ProvidedContext {
    runId: string;
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString("hex");
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(`the test suite needs PostgreSQL at ${PG_ADMIN_URL} (set TEST_PG_URL): ${(e as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
  project.provide("runId", runId);
  project.provide("pgAdminUrl", PG_ADMIN_URL);
  return async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`x509idp_t_${runId}_%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await admin.end();
  };
}
