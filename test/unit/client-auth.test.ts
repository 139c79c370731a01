// Which certificate authenticates a client (src/x509/client-auth.ts, dn-match.ts): Keycloak's client-x509
// comparisons (a Java full match, case-sensitive, on the legacy rendering; X.500 name equality), RFC 8705's
// distinguishedNameMatch and SAN matchers (the IP compared as an address), and the CA checks.
import { describe, expect, it } from "vitest";
import { Certificate } from "../../src/x509/certificate.ts";
import { canonicalIp, issuerAllowed, parseClientCertificateRule, subjectMatches } from "../../src/x509/client-auth.ts";
import { nameMatches, parseWrittenDn } from "../../src/x509/dn-match.ts";
import { X509ConfigError } from "../../src/x509/errors.ts";
import { buildCert, ext, newKey } from "../helpers/certs.ts";
import { name, tlv } from "../helpers/der-build.ts";

const subject = name([[["C", "printable", "US"]], [["O", "utf8", "Red Hat"]], [["OU", "utf8", "Dev"], ["OU", "utf8", "Ops"]], [["CN", "utf8", "svc, billing"]]]);
const v6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const leaf = new Certificate(buildCert({
  subject, serial: 9, key: newKey(),
  extensions: [ext.san([{ dns: "Svc.Example.org" }, { uri: "spiffe://example.org/ns/prod/sa/billing" }, { ip: "10.0.0.7" }, { raw: tlv(0x87, v6) }, { email: "Robot@Example.ORG" }])],
}).der);
const rule = (attributes: Record<string, string>) => parseClientCertificateRule(attributes);
const matches = (attributes: Record<string, string>) => subjectMatches(leaf, rule(attributes).subject);

describe("Keycloak's x509.subjectdn", () => {
  it("the legacy rendering is what the regex sees", () => {
    expect(leaf.dn("subject", "legacy")).toBe('CN="svc, billing", OU=Dev + OU=Ops, O=Red Hat, C=US');
  });

  it("regex (also when the flag is absent): a full match, case-sensitive", () => {
    expect(matches({ "x509.subjectdn": '(.*?)CN="svc, billing"(.*?)' })).toBe(true);
    expect(matches({ "x509.subjectdn": '(.*?)CN="svc, billing"(.*?)', "x509.allow.regex.pattern.comparison": "true" })).toBe(true);
    expect(matches({ "x509.subjectdn": "CN=.*Red Hat" })).toBe(false); // matches() needs the whole string
    expect(matches({ "x509.subjectdn": "CN=.*C=US" })).toBe(true);
    expect(matches({ "x509.subjectdn": "cn=.*c=us" })).toBe(false);
    expect(matches({ "x509.subjectdn": "(?i)cn=.*c=us" })).toBe(true);
    expect(matches({ "x509.subjectdn": "CN=a|CN=.*" })).toBe(true); // the alternation stays inside the full match
  });

  it("exact (regex off): equal as X.500 names, spacing and escaping aside, case not", () => {
    const exact = (dn: string) => matches({ "x509.subjectdn": dn, "x509.allow.regex.pattern.comparison": "false" });
    expect(exact('CN=svc\\, billing,OU=Dev+OU=Ops,O=Red Hat,C=US')).toBe(true);
    expect(exact('CN="svc, billing", OU=Ops + OU=Dev, O=Red Hat, C=US')).toBe(true);
    expect(exact('cn=svc\\, billing,ou=Dev+ou=Ops,o=Red Hat,c=US')).toBe(true); // keywords are case-insensitive
    expect(exact('CN=svc\\, billing,OU=Dev+OU=Ops,O=red hat,C=US')).toBe(false);
    expect(exact('CN=svc\\, billing,OU=Dev,O=Red Hat,C=US')).toBe(false);
    expect(exact('C=US,O=Red Hat,OU=Dev+OU=Ops,CN=svc\\, billing')).toBe(false); // RDN order matters
  });
});

describe("RFC 8705 tls_client_auth_*", () => {
  it("subject DN: distinguishedNameMatch (case and repeated spaces ignored)", () => {
    expect(matches({ tls_client_auth_subject_dn: "cn=SVC\\, BILLING, ou=dev+ou=ops, o=red   hat, c=us" })).toBe(true);
    expect(matches({ tls_client_auth_subject_dn: "cn=svc\\, billing, ou=dev, o=red hat, c=us" })).toBe(false);
  });

  it("SAN DNS without case, URI exactly, e-mail with the domain without case", () => {
    expect(matches({ tls_client_auth_san_dns: "svc.example.ORG" })).toBe(true);
    expect(matches({ tls_client_auth_san_dns: "example.org" })).toBe(false);
    expect(matches({ tls_client_auth_san_uri: "spiffe://example.org/ns/prod/sa/billing" })).toBe(true);
    expect(matches({ tls_client_auth_san_uri: "spiffe://example.org/ns/prod/sa/Billing" })).toBe(false);
    expect(matches({ tls_client_auth_san_email: "Robot@example.org" })).toBe(true);
    expect(matches({ tls_client_auth_san_email: "robot@example.org" })).toBe(false);
  });

  it("SAN IP compared as an address (RFC 5952 §8), IPv4 and IPv6", () => {
    expect(matches({ tls_client_auth_san_ip: "10.0.0.7" })).toBe(true);
    expect(matches({ tls_client_auth_san_ip: "2001:db8::1" })).toBe(true);
    expect(matches({ tls_client_auth_san_ip: "2001:0DB8:0:0:0:0:0:0001" })).toBe(true);
    expect(matches({ tls_client_auth_san_ip: "::ffff:10.0.0.7" })).toBe(false);
    expect(canonicalIp("10.0.0.256")).toBeUndefined();
    expect(canonicalIp("example.org")).toBeUndefined();
  });
});

describe("the rule is checked when saved", () => {
  const refused = (attributes: Record<string, string>) => {
    try {
      rule(attributes);
    } catch (e) {
      if (e instanceof X509ConfigError) return e.key;
      throw e;
    }
    return undefined;
  };
  it("exactly one subject attribute, each well formed", () => {
    expect(refused({})).toBe("attributes.x509.subjectdn");
    expect(refused({ tls_client_auth_san_dns: "a", tls_client_auth_san_uri: "spiffe://a/b" })).toBe("attributes.tls_client_auth_san_uri");
    expect(refused({ "x509.subjectdn": "a(?i)b" })).toBe("attributes.x509.subjectdn");
    expect(refused({ "x509.subjectdn": "CN=a", "x509.allow.regex.pattern.comparison": "yes" })).toBe("attributes.x509.allow.regex.pattern.comparison");
    expect(refused({ tls_client_auth_subject_dn: "FOO=bar" })).toBe("attributes.tls_client_auth_subject_dn");
    expect(refused({ tls_client_auth_san_uri: "not a uri" })).toBe("attributes.tls_client_auth_san_uri");
    expect(refused({ tls_client_auth_san_dns: "a", "x509.casubjectdn": "CN" })).toBe("attributes.x509.casubjectdn");
    expect(refused({ tls_client_auth_san_dns: "a", "x509.issuer.sha256": "ab:cd" })).toBe("attributes.x509.issuer.sha256");
    expect(refused({ tls_client_auth_san_dns: "a", "x509.issuer.sha256": `${"AB:".repeat(31)}AB##${"0".repeat(64)}` })).toBeUndefined();
  });
});

describe("the CAs a client accepts", () => {
  const caKey = newKey();
  const caName = name([[["O", "utf8", "Red Hat"]], [["CN", "utf8", "Issuing CA"]]]);
  const ca = new Certificate(buildCert({ subject: caName, serial: 1, key: caKey, extensions: [ext.basicConstraints(true, 0)] }).der);
  const path = [leaf, ca];
  it("by fingerprint (any form of hex) and by subject DN (matched as RFC 4517 names)", () => {
    expect(issuerAllowed(path, rule({ tls_client_auth_san_dns: "x", "x509.issuer.sha256": ca.sha256.toUpperCase().replace(/(..)(?!$)/g, "$1:") }))).toBe(true);
    expect(issuerAllowed(path, rule({ tls_client_auth_san_dns: "x", "x509.issuer.sha256": leaf.sha256 }))).toBe(false);
    expect(issuerAllowed(path, rule({ tls_client_auth_san_dns: "x", "x509.casubjectdn": "CN=Other##cn=issuing ca,o=red hat" }))).toBe(true);
    expect(issuerAllowed(path, rule({ tls_client_auth_san_dns: "x", "x509.casubjectdn": "CN=Other" }))).toBe(false);
    expect(issuerAllowed(path, rule({ tls_client_auth_san_dns: "x" }))).toBe(true);
  });

  it("nameMatches compares #hex values by their DER", () => {
    expect(nameMatches(ca.subject, parseWrittenDn("CN=#0c0a49737375696e67204341,O=Red Hat"), "exact")).toBe(true);
  });
});
