// The README's "Client certificates" section is true: its `cert` examples print exactly what it shows, and its tables
// of DN forms, identity sources and options agree with the code, for the example certificate shipped in examples/.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { extractIdentity, IDENTITY_SOURCES, KEYS, parseCertificate, parseIdentityOptions, parseValidationOptions, VALIDATION_KEYS as V } from "../../src/x509/index.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Client certificates"), readme.indexOf("\n## ", readme.indexOf("## Client certificates") + 5));
const example = parseCertificate(fs.readFileSync(path.join(ROOT, "examples/certs/test-user.pem")));

/** The rows of the Markdown table that follows `heading`, as cells. */
function table(heading: string): string[][] {
  const from = section.indexOf(heading);
  expect(from, heading).toBeGreaterThanOrEqual(0);
  const lines = section.slice(from).split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((c) => c.trim()));
  }
  return rows;
}

const code = (cell: string) => /^`([^`]*)`/.exec(cell)?.[1];

/** `$ command` lines of the section's console blocks, each with the output printed under it. */
function consoleExamples(): { command: string; output: string }[] {
  const out: { command: string; output: string }[] = [];
  for (const block of section.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const chunk of (block[1] as string).split(/^\$ /m).slice(1)) {
      const [command, ...output] = chunk.replace(/\n$/, "").split("\n");
      out.push({ command: command as string, output: output.join("\n") });
    }
  }
  return out;
}

describe("README: client certificates", () => {
  const examples = consoleExamples();

  it("has cert examples to run", () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    for (const e of examples) expect(e.command).toMatch(/^npx x509-idp cert /);
  });

  it.each(examples.map((e) => [e.command, e]))("%s prints what the README shows", (_, { command, output }) => {
    // `npx x509-idp` runs bin/x509-idp, which runs src/main.ts with this Node: call it directly (no npm noise).
    const r = spawnSync("bash", ["-c", command.replace(/^npx x509-idp/, `"${process.execPath}" src/main.ts`)], { cwd: ROOT, encoding: "utf8" });
    expect(r.stdout.replace(/\n$/, "")).toBe(output);
  });

  it("the DN forms table shows the example's renderings", () => {
    const rows = table("| form | Java |");
    expect(rows.map((r) => code(r[0] as string))).toEqual(["legacy", "canonical", "rfc2253"]);
    expect(rows.map((r) => code(r[2] as string))).toEqual([example.subjectDn.legacy, example.subjectDn.canonical, example.subjectDn.rfc2253]);
  });

  it("the identity sources table lists every source, its label and the example's identity", () => {
    const rows = table("| id | label (configuration value) |");
    expect(rows.map((r) => code(r[0] as string)).sort()).toEqual(IDENTITY_SOURCES.map((s) => s.id).sort());
    for (const [idCell, labelCell, identityCell] of rows) {
      const source = IDENTITY_SOURCES.find((s) => s.id === code(idCell as string));
      expect(code(labelCell as string)).toBe(source?.label);
      for (const alias of source?.aliases ?? []) expect(labelCell).toContain(`\`${alias}\``);
      const r = extractIdentity(example, parseIdentityOptions({ [KEYS.source]: source?.label }));
      const shown = code(identityCell as string);
      if (shown === undefined) {
        expect(identityCell).toMatch(/^none/);
        expect(r.ok).toBe(false);
      } else if (shown.endsWith("…")) {
        expect(r.ok && r.identity.startsWith(shown.slice(0, -1))).toBe(true);
      } else {
        expect(r.ok ? r.identity : r.reason).toBe(shown);
      }
    }
  });

  it("the options table names every key with its default", () => {
    const rows = table("| key | values | default |");
    expect(rows.map((r) => code(r[0] as string)).sort()).toEqual(Object.values(KEYS).sort());
    const defaults = parseIdentityOptions({});
    const shown = Object.fromEntries(rows.map((r) => [code(r[0] as string), code(r[2] as string)]));
    expect(IDENTITY_SOURCES.find((s) => s.id === defaults.source)?.label).toBe(shown[KEYS.source]);
    expect(defaults.regex.source).toBe(shown[KEYS.regex]);
    expect(String(defaults.canonicalDn)).toBe(shown[KEYS.canonicalDn]);
    expect(String(defaults.serialHex)).toBe(shown[KEYS.serialHex]);
    expect(defaults.mapper).toBe("username-email");
    expect(shown[KEYS.mapper]).toBe("Username or Email");
    expect(defaults.attributeNames.join("##")).toBe(shown[KEYS.attributeNames]);
  });

  it("the validation options table names every validation key with x509-idp's default", () => {
    const rows = table("| key | values | x509-idp default |");
    expect(rows.map((r) => code(r[0] as string)).sort()).toEqual(Object.values(V).sort());
    const o = parseValidationOptions({});
    const none = undefined;
    const actual: Record<string, string | undefined> = {
      [V.timestampValidation]: String(o.timestampValidation), [V.crlEnabled]: String(o.crl.enabled), [V.crlDistributionPoints]: String(o.crl.distributionPoints),
      [V.crlPaths]: none, [V.crlAbortIfStale]: String(o.crl.abortIfStale), [V.ocspEnabled]: String(o.ocsp.enabled), [V.ocspFailOpen]: String(o.ocsp.failOpen),
      [V.ocspResponderUri]: o.ocsp.responderUri?.href, [V.ocspResponderCertificate]: o.ocsp.responderCertificate ? "set" : none,
      [V.keyUsage]: o.keyUsage.join(",") || none, [V.extendedKeyUsage]: o.extendedKeyUsage.map((e) => e.text).join(",") || none,
      [V.certificatePolicy]: o.certificatePolicies.join(",") || none, [V.certificatePolicyMode]: o.certificatePolicyMode === "all" ? "All" : "Any",
      [V.revalidate]: "false", [V.legacyCriticalBehavior]: String(o.legacyCriticalBehavior), [V.caPins]: o.caPins.join("##") || none,
      [V.checkIntermediates]: String(o.checkIntermediates), [V.ocspSha256CertId]: String(o.ocsp.sha256CertId), [V.fetchAllowedHosts]: o.fetchAllowedHosts.join("##") || none,
      [V.allowCaCertificate]: String(o.allowCaCertificate),
    };
    for (const [keyCell, , defaultCell] of rows) expect(code(defaultCell as string), keyCell).toBe(actual[code(keyCell as string) as string]);
  });
});
