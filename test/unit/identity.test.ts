// Identity sources (keycloak-x509.md §3.1): Keycloak's published vectors, the quirks x509-idp fixes, x509-idp's own
// sources, and the configuration that selects them.
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { extractIdentity } from "../../src/x509/identity/extract.ts";
import { IDENTITY_SOURCES } from "../../src/x509/identity/sources.ts";
import { KEYS, parseIdentityOptions, type ConfigMap } from "../../src/x509/options.ts";
import { X509ConfigError } from "../../src/x509/errors.ts";
import { DN_CASES } from "../fixtures/dn-cases.ts";
import { buildCert, ext, newKey } from "../helpers/certs.ts";
import { dn, name, utf8 } from "../helpers/der-build.ts";

const rdnsOf = (n: string) => DN_CASES.find((c) => c.name === n)?.rdns ?? [];
const SUBJECT = name(rdnsOf("keycloak test-user subject"));
const ISSUER = name(rdnsOf("keycloak intermediate CA (issuer)"));
const ISSUER_LEGACY = "EMAILADDRESS=contact@keycloak.org, CN=Keycloak Intermediate CA, OU=Keycloak, O=Red Hat, ST=MA, C=US";
const ISSUER_CANONICAL = "1.2.840.113549.1.9.1=#1614636f6e74616374406b6579636c6f616b2e6f7267,cn=keycloak intermediate ca,ou=keycloak,o=red hat,st=ma,c=us";

// Keycloak's test-user certificate profile (keycloak-x509.md §7.3), with the SAN entries of test-user-san@localhost.
const testUser = buildCert({
  subject: SUBJECT,
  issuer: ISSUER,
  serial: 4105,
  extensions: [
    ext.keyUsage(["digitalSignature", "nonRepudiation", "keyEncipherment"], true),
    ext.extKeyUsage(["clientAuth", "emailProtection"]),
    ext.san([{ email: "test-user-altmail@localhost" }, { upn: "test_upn_name@localhost" }]),
  ],
});

const identity = (config: ConfigMap, cert = testUser.cert) => {
  const r = extractIdentity(cert, parseIdentityOptions(config));
  return r.ok ? r.identity : r.reason;
};
const src = (label: string, more: ConfigMap = {}): ConfigMap => ({ [KEYS.source]: label, ...more });

describe("Keycloak's vectors", () => {
  it("Subject DN with the default expression, non-canonical and canonical", () => {
    expect(identity(src("Match SubjectDN using regular expression"))).toBe("EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, L=Boston, ST=MA, C=US");
    expect(identity(src("Match SubjectDN using regular expression", { [KEYS.canonicalDn]: "true" })))
      .toBe("1.2.840.113549.1.9.1=#1613746573742d75736572406c6f63616c686f7374,cn=test-user,ou=keycloak,o=red hat,l=boston,st=ma,c=us");
  });

  it("Issuer DN, whole and with Keycloak's O=(.*?)(?:,|$) giving Red Hat", () => {
    expect(identity(src("Match IssuerDN using regular expression"))).toBe(ISSUER_LEGACY);
    expect(identity(src("Match IssuerDN using regular expression", { [KEYS.canonicalDn]: "true" }))).toBe(ISSUER_CANONICAL);
    expect(identity(src("Match IssuerDN using regular expression", { [KEYS.regex]: "O=(.*?)(?:,|$)" }))).toBe("Red Hat");
  });

  it("serial number 4105: decimal 4105, hex 1009; the configured expression does not apply", () => {
    expect(identity(src("Certificate Serial Number", { [KEYS.regex]: "(\\d)" }))).toBe("4105");
    expect(identity(src("Certificate Serial Number", { [KEYS.serialHex]: "true" }))).toBe("1009");
    const c161 = buildCert({ subject: dn("CN=x"), serial: 161 }).cert;
    expect(identity(src("Certificate Serial Number", { [KEYS.serialHex]: "true" }), c161)).toBe("00a1");
  });

  it("serial##issuer, decimal and hex, non-canonical and canonical", () => {
    expect(identity(src("Certificate Serial Number and IssuerDN"))).toBe(`4105##${ISSUER_LEGACY}`);
    expect(identity(src("Certificate Serial Number and IssuerDN", { [KEYS.serialHex]: "true" }))).toBe(`1009##${ISSUER_LEGACY}`);
    expect(identity(src("Certificate Serial Number and IssuerDN", { [KEYS.canonicalDn]: "true" }))).toBe(`4105##${ISSUER_CANONICAL}`);
  });

  it("SHA-256 thumbprint: lower-case hex over the DER, under both of Keycloak's labels", () => {
    const want = new X509Certificate(testUser.der).fingerprint256.replace(/:/g, "").toLowerCase();
    expect(identity(src("SHA-256 Thumbprint"))).toBe(want);
    expect(identity(src("SHA-256 Certificate thumbprint"))).toBe(want);
    expect(want).toMatch(/^[0-9a-f]{64}$/);
  });

  it("full certificate: single-line base64 of the DER, no BEGIN/END", () => {
    expect(identity(src("Full Certificate in PEM format"))).toBe(Buffer.from(testUser.der).toString("base64"));
  });

  it("subject e-mail, subject CN, SAN e-mail and SAN UPN", () => {
    expect(identity(src("Subject's e-mail"))).toBe("test-user@localhost");
    expect(identity(src("Subject's Common Name"))).toBe("test-user");
    expect(identity(src("Subject's Alternative Name E-mail"))).toBe("test-user-altmail@localhost");
    expect(identity(src("Subject's Alternative Name otherName (UPN)"))).toBe("test_upn_name@localhost");
  });

  it("Keycloak's UPN-cert.pem values: otherName test-user@some-company-domain, rfc822 test@somecompany.com", () => {
    const c = buildCert({ subject: dn("CN=upn"), extensions: [ext.san([{ upn: "test-user@some-company-domain" }, { email: "test@somecompany.com" }])] }).cert;
    expect(identity(src("Subject's Alternative Name otherName (UPN)"), c)).toBe("test-user@some-company-domain");
    expect(identity(src("Subject's Alternative Name E-mail"), c)).toBe("test@somecompany.com");
  });

  it("labels are read case-insensitively", () => {
    expect(identity(src("subject's COMMON name"))).toBe("test-user");
  });
});

describe("where x509-idp does better than Keycloak", () => {
  it("Subject's Common Name is the attribute's text, not an RFC 4514-escaped string", () => {
    const c = buildCert({ subject: dn("C=US", "CN=Doe, John+Jr <x>") }).cert;
    expect(identity(src("Subject's Common Name"), c)).toBe("Doe, John+Jr <x>");
  });

  it("otherName (UPN) is only ever a UPN: another otherName type is not returned", () => {
    const c = buildCert({ subject: dn("CN=x"), extensions: [ext.san([{ otherName: { oid: "1.2.3.4", value: utf8("not-a-upn") } }, { xmpp: "a@b" }])] }).cert;
    expect(identity(src("Subject's Alternative Name otherName (UPN)"), c)).toBe("FIELD_MISSING");
  });

  it("an empty expression group is no identity (it must not match a user with an empty attribute)", () => {
    expect(identity(src("Match SubjectDN using regular expression", { [KEYS.regex]: "NOPE=(.*?)(?:,|$)" }))).toBe("NO_MATCH");
    expect(identity(src("Match SubjectDN using regular expression", { [KEYS.regex]: "CN=(x?)" }))).toBe("NO_MATCH");
  });
});

describe("which value, when there are several", () => {
  it("takes the most specific CN and e-mail (the last in DER order), as Keycloak does", () => {
    const c = buildCert({ subject: dn("CN=first", "E=one@x.org", "OU=unit", "CN=second", "E=two@x.org") }).cert;
    expect(identity(src("Subject's Common Name"), c)).toBe("second");
    expect(identity(src("Subject's e-mail"), c)).toBe("two@x.org");
  });

  it("takes the first SAN e-mail, and offers every XMPP address as a candidate", () => {
    const c = buildCert({ subject: dn("CN=x"), extensions: [ext.san([{ dns: "h.example" }, { email: "a@x.org" }, { email: "b@x.org" }, { xmpp: "alice@chat.example" }, { xmpp: "alice@other.example" }])] }).cert;
    expect(identity(src("Subject's Alternative Name E-mail"), c)).toBe("a@x.org");
    const xmpp = extractIdentity(c, parseIdentityOptions(src("san-xmpp")));
    expect(xmpp).toEqual({ ok: true, identity: "alice@chat.example", candidates: ["alice@chat.example", "alice@other.example"] });
  });

  it("an empty subject with SAN only", () => {
    const c = buildCert({ subject: name([]), issuer: dn("CN=CA"), extensions: [ext.san([{ email: "only@san.example" }], true)] }).cert;
    expect(c.subjectDn).toEqual({ legacy: "", canonical: "", rfc2253: "" });
    expect(identity(src("Subject's Alternative Name E-mail"), c)).toBe("only@san.example");
    expect(identity(src("Subject's Common Name"), c)).toBe("FIELD_MISSING");
    expect(identity(src("Subject's e-mail"), c)).toBe("FIELD_MISSING");
    expect(identity(src("Match SubjectDN using regular expression"), c)).toBe("NO_MATCH");
  });
});

describe("x509-idp's own sources", () => {
  it("SHA-256 of the public key is the same for every certificate of one key pair", () => {
    const key = newKey();
    const a = buildCert({ subject: dn("CN=a"), key, serial: 1 }).cert;
    const b = buildCert({ subject: dn("CN=b"), key, serial: 2 }).cert;
    const other = buildCert({ subject: dn("CN=a"), serial: 1 }).cert;
    expect(identity(src("spki-sha256"), a)).toBe(identity(src("SHA-256 of the public key"), b));
    expect(identity(src("spki-sha256"), a)).not.toBe(identity(src("spki-sha256"), other));
    expect(identity(src("sha256-thumbprint"), a)).not.toBe(identity(src("sha256-thumbprint"), b));
  });

  it("subject key identifier, when the certificate has one", () => {
    const key = newKey();
    const c = buildCert({ subject: dn("CN=a"), key, extensions: [ext.subjectKeyId(key.publicKey)] }).cert;
    expect(identity(src("Subject Key Identifier"), c)).toMatch(/^[0-9a-f]{40}$/);
    expect(identity(src("subject-key-id"), testUser.cert)).toBe("FIELD_MISSING");
  });

  it("a malformed extension is a clear failure, not an exception", () => {
    const c = buildCert({ subject: dn("CN=a"), extensions: [{ oid: "2.5.29.17", value: Uint8Array.of(0x30, 0x03, 0x81, 0x05, 0x61) }] }).cert;
    const r = extractIdentity(c, parseIdentityOptions(src("san-email")));
    expect(r).toMatchObject({ ok: false, reason: "MALFORMED_EXTENSION" });
  });
});

describe("identity configuration", () => {
  it("has a stable id and Keycloak's label for every source", () => {
    expect(IDENTITY_SOURCES.filter((s) => s.keycloak).map((s) => s.label)).toEqual([
      "Match SubjectDN using regular expression", "Subject's e-mail", "Subject's Alternative Name E-mail",
      "Subject's Alternative Name otherName (UPN)", "Subject's Common Name", "Match IssuerDN using regular expression",
      "Certificate Serial Number", "Certificate Serial Number and IssuerDN", "SHA-256 Thumbprint", "Full Certificate in PEM format",
    ]);
  });

  it("missing keys take Keycloak's model defaults", () => {
    const o = parseIdentityOptions({});
    expect(o).toMatchObject({ source: "subject-dn-regex", canonicalDn: false, serialHex: false, mapper: "username-email", attributeNames: ["usercertificate"] });
    expect(o.regex.source).toBe("(.*?)(?:$)");
  });

  it("reads the mapper and ##-separated attribute names", () => {
    const o = parseIdentityOptions({ [KEYS.mapper]: "Custom Attribute Mapper", [KEYS.attributeNames]: "x509_certificate_serialnumber##x509_issuer_dn" });
    expect(o).toMatchObject({ mapper: "custom-attribute", attributeNames: ["x509_certificate_serialnumber", "x509_issuer_dn"] });
  });

  it.each([
    [{ [KEYS.regex]: "CN=.*" }, KEYS.regex, /exactly one capturing group, it has 0/],
    [{ [KEYS.regex]: "(CN)=(.*)" }, KEYS.regex, /it has 2/],
    [{ [KEYS.regex]: "(a)\\1" }, KEYS.regex, /back-references/],
    [{ [KEYS.regex]: "(a" }, KEYS.regex, /unclosed group/],
    [{ [KEYS.source]: "Issuer's e-mail" }, KEYS.source, /unknown identity source/],
    [{ [KEYS.canonicalDn]: "yes" }, KEYS.canonicalDn, /"true" or "false"/],
    [{ [KEYS.mapper]: "LDAP" }, KEYS.mapper, /Custom Attribute Mapper/],
    [{ [KEYS.mapper]: "Custom Attribute Mapper", [KEYS.attributeNames]: "a## ##b" }, KEYS.attributeNames, /must not be empty/],
  ])("refuses %o, naming the key", (config, key, message) => {
    const attempt = () => parseIdentityOptions(config as ConfigMap);
    expect(attempt).toThrow(X509ConfigError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (e) {
      expect((e as X509ConfigError).key).toBe(key);
      expect((e as Error).message.startsWith(`${key}: `)).toBe(true);
    }
  });
});
