// Certificates made by a real tool at test time: OpenSSL's `req -x509` with RSA, EC and Ed25519 keys, every escaping
// case its -subj syntax can express, multi-valued RDNs, UTF-8, T61String and BMPString (string_mask), attributes the
// JDK has no keyword for, several CNs and e-mails, an empty subject with SANs only, serial edge cases. Each one is read
// by x509-idp and by the JDK's X509Certificate (as Keycloak reads it), and the two must agree; OpenSSL's own view of
// the serial, the thumbprint and the SANs must agree too.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askJdk } from "../../scripts/jdk-oracle.ts";
import { TAG } from "../../src/x509/der.ts";
import { parseCertificate, type Certificate, type Name } from "../../src/x509/index.ts";
import { tempDir } from "../helpers/db.ts";

interface Case {
  name: string;
  key: "rsa" | "p256" | "p384" | "ed25519";
  subject: string;
  serial: string;
  args?: string[];
  /** OpenSSL's string_mask (which string types it writes). */
  mask?: "default" | "pkix" | "utf8only";
  /** Issued by a CA (its subject is the issuer) rather than self-signed. */
  ca?: boolean;
}

const UPN = "1.3.6.1.4.1.311.20.2.3";
const XMPP = "1.3.6.1.5.5.7.8.5";

const CASES: Case[] = [
  { name: "commas and an ampersand (RSA)", key: "rsa", subject: "/C=US/O=Doe, John & Co/CN=Doe, John", serial: "0", ca: true },
  { name: "a multi-valued RDN", key: "p256", subject: "/CN=alice+UID=1234/O=Example", serial: "127", args: ["-multivalue-rdn"] },
  { name: "a three-valued RDN with attributes the JDK has no keyword for", key: "p256", subject: "/CN=bob+serialNumber=42+title=Dr/O=Example", serial: "128", args: ["-multivalue-rdn"] },
  { name: "quotes, a backslash and a plus sign", key: "p256", subject: '/CN=say "hi"/O=back\\\\slash/OU=a\\+b', serial: "255" },
  { name: "leading and trailing spaces, a leading #, ; < >", key: "p384", subject: "/CN= padded /O=#hash/L=semi;colon<>/ST=a=b", serial: "256" },
  { name: "runs of spaces and mixed case", key: "p256", subject: "/CN=Mixed   CASE  Name/O=ÄÖÜ äöü ß/OU=ﬁ ligature", serial: "4105", args: ["-utf8"] },
  { name: "UTF-8 beyond Latin-1, and a 20-byte serial with the high bit set", key: "p256", subject: "/CN=Jürgen Groß/O=Société/OU=日本語 😀", serial: "0x80f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1", args: ["-utf8"] },
  {
    name: "EV-style subject: businessCategory, jurisdictionC, serialNumber, title, postalCode, street, DC, UID",
    key: "rsa",
    subject: "/businessCategory=Private Organization/jurisdictionC=DE/serialNumber=HRB 1234/title=Dr/postalCode=12345/street=Main St 1/DC=example/DC=com/UID=u1/CN=ev",
    serial: "0x7fffffffffffffffffffffffffffffffffffffff",
  },
  { name: "several CNs and e-mails (Ed25519), a negative serial", key: "ed25519", subject: "/CN=x/CN=second/emailAddress=a@x/emailAddress=b@x", serial: "-1234" },
  { name: "an empty subject with SANs only", key: "p256", subject: "/", serial: "5", ca: true, args: ["-addext", "subjectAltName=critical,email:only@san.example,email:second@san.example"] },
  { name: "T61String and BMPString (string_mask default)", key: "p384", subject: "/CN=Jürgen/O=日本/OU=a&b/L=plain", serial: "161", args: ["-utf8"], mask: "default" },
  { name: "BMPString for everything beyond PrintableString (string_mask pkix)", key: "p256", subject: "/CN=Jürgen/O=a&b@c/L=plain", serial: "15", args: ["-utf8"], mask: "pkix" },
  {
    name: "SAN e-mail, UPN and xmppAddr",
    key: "p256",
    subject: "/CN=holder",
    serial: "1",
    args: ["-addext", `subjectAltName=email:holder@example.org,otherName:${UPN};UTF8:holder@corp.example,otherName:${XMPP};UTF8:holder@chat.example,DNS:host.example`],
  },
];

let dir: string;
const certs = new Map<string, { cert: Certificate; jdk: Record<string, string>; file: string }>();

function openssl(args: string[]): string {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  dir = tempDir("x509idp-openssl-");
  openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key"]);
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.key"]);
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.key"]);
  openssl(["genpkey", "-algorithm", "ED25519", "-out", "ed25519.key"]);
  fs.writeFileSync(path.join(dir, "ca.cnf"), "[req]\ndistinguished_name = dn\n[dn]\n");
  openssl(["req", "-new", "-x509", "-config", "ca.cnf", "-key", "p384.key", "-days", "30", "-subj", "/C=DE/O=Example, Inc./CN=Example CA", "-out", "ca.pem"]);
  CASES.forEach((c, i) => {
    const config = path.join(dir, `req${i}.cnf`);
    fs.writeFileSync(config, `[req]\ndistinguished_name = dn\nstring_mask = ${c.mask ?? "utf8only"}\n[dn]\n`);
    openssl(["req", "-new", "-x509", "-config", config, "-key", `${c.key}.key`, "-days", "30", "-subj", c.subject, "-set_serial", c.serial, ...(c.ca ? ["-CA", "ca.pem", "-CAkey", "p384.key"] : []), ...(c.args ?? []), "-outform", "DER", "-out", `c${i}.der`]);
  });
  const ders = CASES.map((_, i) => fs.readFileSync(path.join(dir, `c${i}.der`)));
  const answers = askJdk(ders.map((d) => `cert ${d.toString("hex")}`));
  CASES.forEach((c, i) => {
    const jdk = answers[i] as Record<string, string>;
    if (jdk.error) throw new Error(`${c.name}: the JDK refused the certificate: ${jdk.error}`);
    certs.set(c.name, { cert: parseCertificate(ders[i] as Buffer), jdk, file: `c${i}.der` });
  });
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const get = (name: string) => certs.get(name) as { cert: Certificate; jdk: Record<string, string>; file: string };
/** JDK 17 garbles BMPString and T61String in getName(); x509-idp follows current JDKs there (README). */
const hasBmpOrT61 = (n: Name) => n.rdns.some((rdn) => rdn.some((a) => a.tag === TAG.BMP_STRING || a.tag === TAG.T61_STRING));

describe("certificates made by OpenSSL, read as the JDK reads them", () => {
  it("the corpus holds what it claims: every string type and key type", () => {
    const tags = new Set([...certs.values()].flatMap(({ cert }) => cert.subject.rdns.flat().map((a) => a.tag)));
    for (const t of [TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.IA5_STRING, TAG.T61_STRING, TAG.BMP_STRING]) expect(tags).toContain(t);
    const keys = new Set([...certs.values()].map(({ cert }) => `${cert.publicKey.algorithm}${cert.publicKey.curve ?? ""}`));
    expect([...keys].sort()).toEqual(["ECP-256", "ECP-384", "Ed25519", "RSA"]);
    expect(get("a multi-valued RDN").cert.subject.rdns.some((r) => r.length === 2)).toBe(true);
    expect(get("an empty subject with SANs only").cert.subject.rdns).toEqual([]);
    expect(get("an empty subject with SANs only").cert.issuerDn.legacy).toBe('CN=Example CA, O="Example, Inc.", C=DE');
  });

  it.each(CASES.map((c) => [c.name]))("%s: DNs, serial, thumbprint, base64 and SAN e-mails as the JDK's", (name) => {
    const { cert, jdk } = get(name);
    expect(cert.subjectDn.legacy).toBe(jdk.subjectLegacy);
    expect(cert.subjectDn.canonical).toBe(jdk.subjectCanonical);
    expect(cert.issuerDn.legacy).toBe(jdk.issuerLegacy);
    expect(cert.issuerDn.canonical).toBe(jdk.issuerCanonical);
    if (!hasBmpOrT61(cert.subject)) expect(cert.subjectDn.rfc2253).toBe(jdk.subjectRfc2253);
    if (!hasBmpOrT61(cert.issuer)) expect(cert.issuerDn.rfc2253).toBe(jdk.issuerRfc2253);
    expect(cert.serialDecimal).toBe(jdk.serialDecimal);
    expect(cert.serialHex).toBe(jdk.serialHex);
    expect(cert.sha256).toBe(jdk.sha256);
    expect(cert.base64).toBe(jdk.pem);
    expect(cert.sanEmails.join("\n")).toBe(jdk.sanEmails);
  });

  it.each(CASES.map((c) => [c.name]))("%s: serial, thumbprint and SANs as OpenSSL prints them", (name) => {
    const { cert, file } = get(name);
    const text = openssl(["x509", "-inform", "DER", "-in", file, "-noout", "-serial", "-fingerprint", "-sha256", "-ext", "subjectAltName"]);
    const serial = /^serial=(-?)([0-9A-F]+)$/m.exec(text);
    expect(serial).not.toBeNull();
    expect(BigInt(cert.serialDecimal)).toBe((serial?.[1] ? -1n : 1n) * BigInt(`0x${serial?.[2]}`));
    expect(/^sha256 Fingerprint=([0-9A-F:]+)$/im.exec(text)?.[1]?.replace(/:/g, "").toLowerCase()).toBe(cert.sha256);
    const sans = /X509v3 Subject Alternative Name:.*\n\s+(.*)/.exec(text)?.[1]?.split(", ") ?? [];
    expect(sans.filter((s) => s.startsWith("email:")).map((s) => s.slice(6))).toEqual(cert.sanEmails);
    expect(sans.filter((s) => s.startsWith("othername: UPN::")).map((s) => s.slice(16))).toEqual(cert.sanUpns);
    expect(sans.filter((s) => /^othername: xmppAddr::/i.test(s)).map((s) => s.replace(/^othername: xmppAddr::/i, ""))).toEqual(cert.sanXmppAddrs);
  });

  it("the SAN case yields its UPN and xmppAddr", () => {
    const { cert } = get("SAN e-mail, UPN and xmppAddr");
    expect(cert.sanUpns).toEqual(["holder@corp.example"]);
    expect(cert.sanXmppAddrs).toEqual(["holder@chat.example"]);
  });
});
