// `x509-idp ldap test <realm>`: connects with the realm's stored LDAP settings, binds, runs a sample search and prints
// what it found (exit code 1 when a step fails).
import { testLdap, type LdapTestReport } from "../admin/ldap.ts";
import type { Services } from "../services.ts";

export function formatLdapReport(r: LdapTestReport): string {
  const lines = [`realm ${r.realm}: LDAP ${r.ok ? "OK" : "FAILED"}${r.server ? ` (${r.server})` : ""}`];
  for (const s of r.steps) lines.push(`  ${s.ok ? "ok  " : "FAIL"} ${s.step} (${s.ms} ms): ${s.detail}`);
  for (const u of r.sample) lines.push(`    ${u.username}${u.email ? ` <${u.email}>` : ""}${u.enabled ? "" : " (disabled)"}  ${u.dn}  id=${u.id}`);
  return lines.join("\n");
}

export async function ldapTest(s: Services, realm: string, o: { json?: boolean }): Promise<string> {
  const report = await testLdap({ db: s.db.prisma, changed: () => {}, ldap: s.ldap }, realm);
  if (!report.ok) process.exitCode = 1;
  return o.json ? JSON.stringify(report, null, 2) : formatLdapReport(report);
}
