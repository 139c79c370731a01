// npm run fixtures:dn — asks the JDK how it renders every name of test/fixtures/dn-cases.ts and writes
// test/fixtures/dn-expected.json. Run it after adding a case; the JDK cross-check test keeps the file honest.
import fs from "node:fs";
import path from "node:path";
import { DN_CASES } from "../test/fixtures/dn-cases.ts";
import { name, toHex } from "../test/helpers/der-build.ts";
import { askJdk, jdkVersion } from "./jdk-oracle.ts";

const answers = askJdk(DN_CASES.map((c) => `name ${toHex(name(c.rdns))}`));
const out: Record<string, unknown> = {};
DN_CASES.forEach((c, i) => {
  const jdk = answers[i] ?? {};
  if (jdk.error) throw new Error(`${c.name}: the JDK refused the name: ${jdk.error}`);
  out[c.name] = {
    legacy: jdk.legacy,
    canonical: jdk.canonical,
    rfc2253: c.rfc2253 ?? jdk.rfc2253,
    ...(c.rfc2253 !== undefined && c.rfc2253 !== jdk.rfc2253 && { jdkRfc2253: jdk.rfc2253 }),
  };
});
const file = path.resolve(import.meta.dirname, "../test/fixtures/dn-expected.json");
fs.writeFileSync(file, `${JSON.stringify({ jdk: jdkVersion(), cases: out }, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}: ${DN_CASES.length} names rendered by ${jdkVersion()}`);
