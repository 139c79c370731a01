// `x509-idp cert inspect` and `x509-idp cert identity`, run as a user runs them.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCert, ext } from "../helpers/certs.ts";
import { dn } from "../helpers/der-build.ts";
import { tempDir } from "../helpers/db.ts";
import { buildPki, intermediateCrl } from "../helpers/pki.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
let dir: string;
const file = (n: string) => path.join(dir, n);
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "src/main.ts"), "cert", ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
};

beforeAll(() => {
  dir = tempDir("x509idp-cert-");
  const ca = buildCert({ subject: dn("CN=Issuing CA"), serial: 7 });
  const leaf = buildCert({
    subject: dn("C=US", "O=Red Hat", "OU=Keycloak", "CN=test-user", "E=test-user@localhost"), issuer: dn("CN=Issuing CA"), serial: 4105, signer: ca.key,
    extensions: [
      ext.san([{ email: "alt@example.org" }, { upn: "upn@corp" }, { xmpp: "a@chat" }, { xmpp: "b@chat" }]),
      ext.keyUsage(["digitalSignature", "keyEncipherment"]), ext.extKeyUsage(["clientAuth", "1.2.3.4"]), ext.policies(["1.3.76.16.2.1"]),
      ext.crlDistributionPoints(["http://pki.example/ca.crl"]), ext.authorityInfoAccess({ ocsp: ["http://ocsp.example"] }),
    ],
  });
  fs.writeFileSync(file("chain.pem"), leaf.pem + ca.pem);
  fs.writeFileSync(file("leaf.der"), leaf.der);
  fs.writeFileSync(file("broken.pem"), "-----BEGIN CERTIFICATE-----\nMIIBnonsense\n-----END CERTIFICATE-----\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("x509-idp cert inspect", () => {
  it("prints one JSON object per file with every documented field; a chain file's first certificate is the leaf", () => {
    const r = cli("inspect", "--json", file("chain.pem"), file("leaf.der"));
    expect(r.code).toBe(0);
    const [chain, der] = r.stdout.split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(chain).toMatchObject({
      file: file("chain.pem"),
      chainLength: 2,
      subjectDN: { legacy: "EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, C=US" },
      issuerDN: { legacy: "CN=Issuing CA", canonical: "cn=issuing ca", rfc2253: "CN=Issuing CA" },
      serial: { decimal: "4105", hex: "1009" },
      subjectEmail: "test-user@localhost",
      subjectCN: "test-user",
      sanEmails: ["alt@example.org"],
      sanUPN: "upn@corp",
      sanXmppAddrs: ["a@chat", "b@chat"],
      keyUsage: ["digitalSignature", "keyEncipherment"],
      extendedKeyUsage: ["1.3.6.1.5.5.7.3.2", "1.2.3.4"],
      extendedKeyUsageNames: ["clientAuth", "1.2.3.4"],
      policies: ["1.3.76.16.2.1"],
      crlDistributionPoints: ["http://pki.example/ca.crl"],
      ocspUrls: ["http://ocsp.example"],
    });
    for (const k of ["sha256", "pem", "notBefore", "notAfter"]) expect(chain).toHaveProperty(k);
    expect(der).toMatchObject({ sha256: chain?.sha256, pem: chain?.pem });
    expect(der).not.toHaveProperty("chainLength");
  });

  it("reports a file it cannot read and still prints the others, exiting non-zero", () => {
    const r = cli("inspect", "--json", file("broken.pem"), file("leaf.der"), file("missing.pem"));
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ file: file("broken.pem"), error: expect.stringContaining("not a valid X.509 certificate") });
    expect(lines[1]).toHaveProperty("sha256");
    expect(lines[2]).toEqual({ file: file("missing.pem"), error: `cannot read ${file("missing.pem")}: no such file` });
  });

  it("prints a readable summary without --json", () => {
    const r = cli("inspect", file("leaf.der"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Subject: EMAILADDRESS=test-user@localhost, CN=test-user");
    expect(r.stdout).toContain("Serial:    4105 (hex 1009)");
    expect(r.stdout).toContain("Extended key usage: clientAuth, 1.2.3.4");
  });
});

describe("x509-idp cert identity", () => {
  const identity = (...args: string[]) => {
    const r = cli("identity", file("chain.pem"), ...args);
    return { code: r.code, out: r.stdout ? JSON.parse(r.stdout) as Record<string, unknown> : undefined, err: r.stderr };
  };

  it("prints the identity for a source given by id or by Keycloak's label", () => {
    expect(identity("--source", "Certificate Serial Number", "--serial-hex")).toEqual({ code: 0, out: { identity: "1009" }, err: "" });
    expect(identity("--source", "serial-issuer-dn")).toMatchObject({ code: 0, out: { identity: "4105##CN=Issuing CA" } });
    expect(identity("--source", "Match SubjectDN using regular expression", "--regex", "CN=(.*?)(?:,|$)")).toMatchObject({ out: { identity: "test-user" } });
    expect(identity("--source", "subject-dn-regex", "--canonical-dn")).toMatchObject({ out: { identity: "1.2.840.113549.1.9.1=#1613746573742d75736572406c6f63616c686f7374,cn=test-user,ou=keycloak,o=red hat,c=us" } });
    expect(identity("--source", "san-xmpp")).toMatchObject({ out: { identity: "a@chat", candidates: ["a@chat", "b@chat"] } });
  });

  it("exits 1 with a reason when the certificate has no such identity", () => {
    expect(identity("--source", "subject-key-id")).toEqual({ code: 1, out: { identity: null, reason: "the certificate has no subject key identifier" }, err: "" });
    expect(identity("--source", "subject-dn-regex", "--regex", "UID=(.*?)(?:,|$)")).toMatchObject({ code: 1, out: { identity: null } });
  });

  it("exits 2 naming the option for a bad source or expression", () => {
    const bad = identity("--source", "Issuer's e-mail");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--source: unknown identity source");
    const regex = identity("--source", "subject-dn-regex", "--regex", "(a)(b)");
    expect(regex.code).toBe(2);
    expect(regex.err).toContain("--regex: the expression must contain exactly one capturing group");
  });
});

describe("x509-idp cert verify", () => {
  const pki = buildPki();
  let vdir: string;
  const vfile = (n: string) => path.join(vdir, n);
  const verify = (...args: string[]) => {
    const r = cli("verify", ...args);
    return { code: r.code, out: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined, err: r.stderr };
  };

  beforeAll(() => {
    vdir = tempDir("x509idp-verify-");
    fs.writeFileSync(vfile("root.pem"), pki.root.pem);
    fs.writeFileSync(vfile("chain.pem"), pki.leaf.pem + pki.intermediate.pem);
    fs.writeFileSync(vfile("leaf.pem"), pki.leaf.pem);
    fs.mkdirSync(vfile("crl"));
    fs.writeFileSync(vfile("crl/intermediate.crl"), intermediateCrl(pki, { revoked: [{ serial: 4105 }] }));
    fs.writeFileSync(vfile("strict.json"), JSON.stringify({ "x509-cert-auth.keyusage": "digitalSignature", "x509-cert-auth.extendedkeyusage": "serverAuth" }));
    fs.writeFileSync(vfile("crl.json"), JSON.stringify({ alias: "x509", config: { "x509-cert-auth.crl-checking-enabled": "true", "x509-cert-auth.crl-relative-path": "intermediate.crl" } }));
    fs.writeFileSync(vfile("bad.json"), JSON.stringify({ "x509-cert-auth.keyusage": "signEverything" }));
  });
  afterAll(() => fs.rmSync(vdir, { recursive: true, force: true }));

  it("exits 0 and prints the path for a certificate the anchors accept", () => {
    const r = verify(vfile("chain.pem"), "--trust", vfile("root.pem"));
    expect(r).toMatchObject({ code: 0, out: { valid: true, warnings: [] } });
    expect((r.out?.path as string[]).map((dn) => dn.split(",")[0])).toEqual(["EMAILADDRESS=test-user@localhost", "EMAILADDRESS=contact@keycloak.org", "CN=Keycloak Root CA"]);
    // With the intermediate among the trusted certificates, the leaf alone will do.
    fs.writeFileSync(vfile("both.pem"), pki.root.pem + pki.intermediate.pem);
    expect(verify(vfile("leaf.pem"), "--trust", vfile("both.pem")).code).toBe(0);
  });

  it("exits 1 with the code, Keycloak's message and the detail when the certificate fails", () => {
    expect(verify(vfile("chain.pem"), "--trust", vfile("root.pem"), "--options", vfile("strict.json"))).toMatchObject({
      code: 1, out: { valid: false, code: "EXTENDED_KEY_USAGE", message: "Extended Key Usage 'serverAuth' is missing." },
    });
    expect(verify(vfile("chain.pem"), "--trust", vfile("root.pem"), "--options", vfile("crl.json"), "--crl-dir", vfile("crl"))).toMatchObject({
      code: 1, out: { valid: false, code: "CERT_REVOKED", detail: "serial 1009 is on the CRL from 'intermediate.crl'" },
    });
    expect(verify(vfile("chain.pem"), "--trust", vfile("root.pem"), "--at", "2099-01-01T00:00:00Z")).toMatchObject({ code: 1, out: { code: "CERT_EXPIRED" } });
    expect(verify(vfile("leaf.pem"), "--trust", vfile("root.pem"))).toMatchObject({ code: 1, out: { code: "UNTRUSTED", message: "Unable to find certificate chain." } });
    expect(verify(file("broken.pem"), "--trust", vfile("root.pem"))).toMatchObject({ code: 1, out: { valid: false, error: expect.stringContaining("not a valid X.509 certificate") } });
  });

  it("exits 2 naming what is wrong with the trust file, the options or the time", () => {
    const missing = verify(vfile("chain.pem"), "--trust", vfile("nope.pem"));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--trust: cannot read");
    const bad = verify(vfile("chain.pem"), "--trust", vfile("root.pem"), "--options", vfile("bad.json"));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('x509-cert-auth.keyusage: unknown key usage "signEverything"');
    expect(verify(vfile("chain.pem"), "--trust", vfile("root.pem"), "--at", "yesterday").err).toContain("--at:");
    expect(verify(vfile("chain.pem"), "--trust", file("broken.pem")).err).toContain("--trust: entry 1 is not a certificate");
  });
});
