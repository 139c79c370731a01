// STYLE rule 5 as a check: the X.509 core imports no web framework, OIDC library, database or LDAP client, and
// nothing from the rest of x509-idp. It receives certificates, options and small interfaces.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const CORE = path.resolve(import.meta.dirname, "../../src/x509");
const FORBIDDEN = /^(koa|@koa\/|oidc-provider|prisma|@prisma\/|#generated|ldapts|pg|better-sqlite3|pino|undici|eta|commander)(\/|$)/;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

describe("src/x509 stays framework-free", () => {
  it("imports only node: built-ins, small libraries and its own modules", () => {
    const offences: string[] = [];
    for (const f of files(CORE)) {
      const src = fs.readFileSync(f, "utf8");
      for (const m of src.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
        const spec = m[1] as string;
        const rel = path.relative(CORE, path.resolve(path.dirname(f), spec));
        if (FORBIDDEN.test(spec) || (spec.startsWith(".") && rel.startsWith(".."))) offences.push(`${path.relative(CORE, f)} imports ${spec}`);
      }
    }
    expect(offences).toEqual([]);
    expect(files(CORE).length).toBeGreaterThan(10);
  });
});
