// The README's configurations are the tested ones (issue #11, item 10): its HAProxy and Apache configurations are
// the deploy/ files the proxy tests run against real HAProxy and Apache (test/services/proxies.test.ts), and its LDAP
// certificate example is a complete, valid x509 block.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT_DIR = path.resolve(import.meta.dirname, "../..");

describe("the README's proxy configurations are the files the suite runs", () => {
  const readme = fs.readFileSync(path.join(ROOT_DIR, "README.md"), "utf8");
  const block = (heading: string, lang: string) => {
    const at = readme.indexOf(`\n${heading}\n`);
    const open = readme.indexOf(`\`\`\`${lang}\n`, at);
    return readme.slice(open + lang.length + 4, readme.indexOf("```\n", open + 3));
  };
  it.each([
    ["### HAProxy", "haproxy", "deploy/haproxy/x509-idp.cfg"],
    ["### Apache httpd", "apache", "deploy/apache/x509-idp.conf"],
  ])("%s is %s", (heading, lang, file) => {
    expect(block(heading, lang)).toBe(fs.readFileSync(path.join(ROOT_DIR, file), "utf8"));
  });

  it("HAProxy's configuration says mode http wherever its http-request rules are", () => {
    const conf = fs.readFileSync(path.join(ROOT_DIR, "deploy/haproxy/x509-idp.cfg"), "utf8");
    const sections = conf.split(/\n(?=(?:defaults|frontend|backend|global)\b)/);
    for (const section of sections.filter((x) => /^(defaults|frontend|backend)/.test(x))) expect(section, section.split("\n")[0]).toMatch(/\n  mode http\n/);
  });
});

describe("the README's LDAP certificate example", () => {
  it("is a complete x509 block with Keycloak's full keys, valid once a trust anchor is filled in", async () => {
    const { parseRepresentation, x509Schema } = await import("../../src/admin/representation.ts");
    const { buildPki } = await import("../helpers/pki.ts");
    const readme = fs.readFileSync(path.join(ROOT_DIR, "README.md"), "utf8");
    const at = readme.indexOf("**Certificate mapping.**");
    const open = readme.indexOf("```json\n", at);
    const example = JSON.parse(readme.slice(open + 8, readme.indexOf("```\n", open + 3))) as { trustAnchors: string[]; browser: { config: Record<string, string> } };
    expect(Object.keys(example.browser.config).every((k) => k.startsWith("x509-cert-auth."))).toBe(true);
    const parsed = parseRepresentation(x509Schema, { ...example, trustAnchors: [buildPki().root.pem] });
    expect(parsed.directGrant.config?.["x509-cert-auth.mapper-selection.user-attribute-name"]).toBe("usercertificate");
  });
});
