// A SQLite server does not carry PostgreSQL's driver, adapter and generated client (issue #13: memory): they are
// loaded only when DATABASE_URL names PostgreSQL. Checked in a child process of its own, which records every module
// it loads, so that what this test runner loaded does not count.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const POSTGRES_MODULES = /\/node_modules\/(pg|pg-[a-z-]+|@prisma\/adapter-pg)\/|\/generated\/postgresql\//;

/** The modules loaded by importing the server and opening a SQLite database in a fresh Node process. */
function modulesLoadedBy(url: string): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "x509idp-lazy-"));
  const script = path.join(dir, "probe.ts");
  fs.writeFileSync(script, `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
await import(${JSON.stringify(path.join(ROOT, "src/cli/serve.ts"))});
const { openDatabase } = await import(${JSON.stringify(path.join(ROOT, "src/db/database.ts"))});
const db = await openDatabase(${JSON.stringify(url)}, { migrate: true, checkpoint: false });
await db.prisma.realm.count();
await db.close();
process.stdout.write(JSON.stringify(loaded));
`);
  try {
    return JSON.parse(execFileSync(process.execPath, [script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, IDP_LOG_LEVEL: "silent" } })) as string[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("modules a server loads", () => {
  it("the pattern names PostgreSQL's modules (so that finding none means something)", () => {
    for (const m of ["pg", "pg-protocol", "@prisma/adapter-pg"]) expect(import.meta.resolve(m)).toMatch(POSTGRES_MODULES);
    expect(`file://${path.join(ROOT, "generated/postgresql/client.ts")}`).toMatch(POSTGRES_MODULES);
  });

  it("a SQLite server does not load PostgreSQL's driver, adapter or generated client", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "x509idp-lazy-db-"));
    try {
      const loaded = modulesLoadedBy(`file:${path.join(dir, "idp.db")}`);
      expect(loaded.some((u) => u.includes("/generated/sqlite/"))).toBe(true);
      expect(loaded.filter((u) => POSTGRES_MODULES.test(u))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
