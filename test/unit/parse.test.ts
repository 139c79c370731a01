// Reading certificates in every form they arrive in, with bounds and clear errors; and certificates that OpenSSL
// (so Node's crypto.X509Certificate) refuses.
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CertificateParseError } from "../../src/x509/errors.ts";
import { DEFAULT_LIMITS, parseCertificate, parseCertificates } from "../../src/x509/parse.ts";
import { buildCert, ext, newKey } from "../helpers/certs.ts";
import { concat, dn, name } from "../helpers/der-build.ts";

const leaf = buildCert({ subject: dn("C=US", "O=Example", "CN=Alice"), issuer: dn("CN=Issuing CA"), serial: 4105 });
const ca = buildCert({ subject: dn("CN=Issuing CA"), serial: 1 });
const subjects = (input: string | Uint8Array) => parseCertificates(input).map((c) => c.subjectDn.legacy);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CertificateParseError);
    return (e as CertificateParseError).code;
  }
  return "no error";
};

describe("input forms", () => {
  it("PEM, one block or several (the first is the leaf), CRLF, text around, other labels", () => {
    expect(subjects(leaf.pem)).toEqual(["CN=Alice, O=Example, C=US"]);
    expect(subjects(`${leaf.pem}${ca.pem}`)).toEqual(["CN=Alice, O=Example, C=US", "CN=Issuing CA"]);
    expect(subjects(`subject=/CN=Alice\r\n${leaf.pem.replace(/\n/g, "\r\n")}trailing text`)).toEqual(["CN=Alice, O=Example, C=US"]);
    expect(subjects(leaf.pem.replace(/CERTIFICATE/g, "X509 CERTIFICATE"))).toEqual(["CN=Alice, O=Example, C=US"]);
    const trusted = leaf.pem.replace(/CERTIFICATE/g, "TRUSTED CERTIFICATE");
    expect(subjects(trusted)).toEqual(["CN=Alice, O=Example, C=US"]);
  });

  it("DER, alone or concatenated (a chain in one header)", () => {
    expect(subjects(leaf.der)).toEqual(["CN=Alice, O=Example, C=US"]);
    expect(subjects(concat(leaf.der, ca.der))).toEqual(["CN=Alice, O=Example, C=US", "CN=Issuing CA"]);
  });

  it("base64 of the DER without BEGIN/END: one line (Keycloak's PEM identity) or wrapped", () => {
    const b64 = Buffer.from(leaf.der).toString("base64");
    expect(parseCertificate(b64).sha256).toBe(leaf.cert.sha256);
    expect(parseCertificate(b64.replace(/.{64}/g, "$&\n")).sha256).toBe(leaf.cert.sha256);
  });

  it("refuses base64 that Buffer would silently repair, and accepts padding split by whitespace", () => {
    // A certificate whose base64 ends in padding (ECDSA signatures vary in length, so try until one does).
    let cert = leaf;
    for (let i = 1; cert.der.length % 3 === 0; i++) cert = buildCert({ subject: dn(`CN=Alice${"x".repeat(i)}`) });
    const padded = Buffer.from(cert.der).toString("base64");
    const b64 = padded.replace(/=+$/, "");
    expect(parseCertificate(padded.replace(/=/g, "\n= ")).sha256).toBe(cert.cert.sha256);
    expect(parseCertificate(b64).sha256).toBe(cert.cert.sha256); // unpadded is fine
    for (const bad of [
      `${b64.slice(0, 40)}=${b64.slice(40)}`, // "=" inside the data
      `${padded}===`, // more than two "="
      `${padded}A`, // data after the padding
      `${b64.slice(0, 40)}-_${b64.slice(42)}`, // base64url characters
      `${b64.slice(0, 40)}.${b64.slice(40)}`, // a character outside the alphabet
      `${b64.slice(0, 4 * Math.floor(b64.length / 4))}A`, // one character too many: a dangling 6 bits
      "\ufeff" + `${b64.slice(0, 40)}é${b64.slice(40)}`, // non-ASCII inside the data
    ]) {
      expect(code(() => parseCertificate(bad)), bad.slice(36, 48)).toBe("BAD_BASE64");
    }
  });

  it("URL-encoded PEM, as nginx's $ssl_client_escaped_cert", () => {
    const escaped = encodeURIComponent(leaf.pem);
    expect(escaped).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A/);
    expect(parseCertificate(escaped).sha256).toBe(leaf.cert.sha256);
  });

  it("keeps the DER exactly as received", () => {
    expect(Buffer.from(parseCertificate(leaf.pem).der).equals(Buffer.from(leaf.der))).toBe(true);
  });
});

describe("bounds and errors", () => {
  it("names what is wrong with a stable code", () => {
    expect(code(() => parseCertificate(""))).toBe("EMPTY");
    expect(code(() => parseCertificate("   \n"))).toBe("EMPTY");
    expect(code(() => parseCertificate("not base64 at all!"))).toBe("BAD_BASE64");
    expect(code(() => parseCertificate("-----BEGIN CERTIFICATE-----\nMIIB"))).toBe("BAD_PEM");
    expect(code(() => parseCertificate("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----"))).toBe("BAD_BASE64");
    expect(code(() => parseCertificate(Buffer.from("MIIB", "base64").toString("base64")))).toBe("MALFORMED_CERTIFICATE");
    expect(code(() => parseCertificate(leaf.der.subarray(0, leaf.der.length - 10)))).toBe("MALFORMED_CERTIFICATE");
    expect(code(() => parseCertificate(concat(leaf.der, Uint8Array.of(0x05, 0x00))))).toBe("MALFORMED_CERTIFICATE");
    expect(code(() => parseCertificate("%E0%A4%A"))).toBe("BAD_BASE64");
    // Found by the lookup fuzzer: an empty block used to yield an undefined certificate.
    expect(code(() => parseCertificate("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))).toBe("BAD_PEM");
    expect(code(() => parseCertificates(`${leaf.pem}-----BEGIN CERTIFICATE----- -----END CERTIFICATE-----`))).toBe("BAD_PEM");
  });

  it("refuses oversized input, oversized certificates and over-long chains", () => {
    expect(code(() => parseCertificate("A".repeat(DEFAULT_LIMITS.maxInputBytes + 1)))).toBe("INPUT_TOO_LARGE");
    const big = buildCert({ subject: name([[["CN", "utf8", "x".repeat(70_000)]]]) });
    expect(code(() => parseCertificate(big.der))).toBe("CERTIFICATE_TOO_LARGE");
    const chain = Array.from({ length: DEFAULT_LIMITS.maxCertificates + 1 }, () => leaf.pem).join("");
    expect(code(() => parseCertificates(chain))).toBe("CHAIN_TOO_LONG");
    expect(code(() => parseCertificates(concat(...Array.from({ length: DEFAULT_LIMITS.maxCertificates + 1 }, () => leaf.der))))).toBe("CHAIN_TOO_LONG");
    expect(parseCertificates(chain, { ...DEFAULT_LIMITS, maxCertificates: 20 })).toHaveLength(DEFAULT_LIMITS.maxCertificates + 1);
  });

  it("a malformed extension fails only when that extension is read", () => {
    const c = buildCert({ subject: dn("CN=a"), extensions: [{ oid: "2.5.29.15", value: Uint8Array.of(0x03, 0x09) }] }).cert;
    expect(c.subjectDn.legacy).toBe("CN=a");
    expect(code(() => c.keyUsage)).toBe("MALFORMED_EXTENSION");
  });

  it("refuses a certificate with the same extension twice (RFC 5280 §4.2)", () => {
    expect(code(() => buildCert({ subject: dn("CN=a"), extensions: [ext.basicConstraints(false), ext.basicConstraints(true)] }))).toBe("MALFORMED_CERTIFICATE");
  });
});

describe("certificates other tools refuse", () => {
  it.each([
    ["an odd-length BMPString", [[["CN", "bmp", { hex: "004100" }]]], "CN=A\ufffd"],
    ["a UniversalString of a bad length", [[["CN", "universal", { hex: "000041" }]]], "CN=\ufffd"],
    ["invalid UTF-8", [[["CN", "utf8", { hex: "61ff62" }]]], "CN=a\ufffdb"],
    ["a UTF-8-encoded surrogate", [[["CN", "utf8", { hex: "eda080" }]]], "CN=\ufffd"],
    ["a GeneralString", [[["CN", "general", "general"]]], "CN=general"],
  ] as const)("%s in the subject", (_label, rdns, legacy) => {
    const b = buildCert({ subject: name(rdns as never) });
    expect(() => new X509Certificate(b.der)).toThrow();
    expect(parseCertificate(b.der).subjectDn.legacy).toBe(legacy);
  });
});

describe("facts", () => {
  it("reads validity, keys, and the extensions validation will need", () => {
    const key = newKey("RS256");
    const c = buildCert({
      subject: dn("CN=Bob"), issuer: dn("CN=CA"), key, notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2051-01-01T00:00:00Z"),
      extensions: [
        ext.basicConstraints(true, 2),
        ext.keyUsage(["digitalSignature", "keyCertSign", "cRLSign"]),
        ext.extKeyUsage(["clientAuth", "1.2.3.4.5"]),
        ext.policies(["1.3.76.16.2.1", "2.23.140.1.2.1"]),
        ext.crlDistributionPoints(["http://pki.example/ca.crl", "ldap://ldap.example/cn=CA?certificateRevocationList;binary"]),
        ext.authorityInfoAccess({ ocsp: ["http://ocsp.example/a", "http://ocsp.example/b"], caIssuers: ["http://pki.example/ca.cer"] }),
        ext.subjectKeyId(key.publicKey),
        ext.authorityKeyId(key.publicKey),
      ],
    }).cert;
    expect(c.notBefore).toBe(Date.parse("2026-01-01T00:00:00Z"));
    expect(c.notAfter).toBe(Date.parse("2051-01-01T00:00:00Z")); // GeneralizedTime from 2050
    expect(c.version).toBe(3);
    expect(c.publicKey).toEqual({ algorithm: "RSA", bits: 2048 });
    expect(c.basicConstraints).toEqual({ ca: true, pathLength: 2 });
    expect(c.keyUsage).toEqual(["digitalSignature", "keyCertSign", "cRLSign"]);
    expect(c.extendedKeyUsage).toEqual(["1.3.6.1.5.5.7.3.2", "1.2.3.4.5"]);
    expect(c.policies).toEqual(["1.3.76.16.2.1", "2.23.140.1.2.1"]);
    expect(c.crlUrls).toEqual(["http://pki.example/ca.crl", "ldap://ldap.example/cn=CA?certificateRevocationList;binary"]);
    expect(c.ocspUrls).toEqual(["http://ocsp.example/a", "http://ocsp.example/b"]);
    expect(c.caIssuersUrls).toEqual(["http://pki.example/ca.cer"]);
    expect(c.subjectKeyId).toBe(c.authorityKeyId);
    expect(buildCert({ subject: dn("CN=e") }).cert.publicKey).toEqual({ algorithm: "EC", curve: "P-256" });
  });

  it("serial edge cases: 0, 0x7f, 0x80, 0xff, a 20-byte serial with the high bit set", () => {
    const serial = (content: string) => { const c = buildCert({ subject: dn("CN=s"), serial: { content } }).cert; return [c.serialDecimal, c.serialHex]; };
    expect(serial("00")).toEqual(["0", "00"]);
    expect(serial("7f")).toEqual(["127", "7f"]);
    expect(serial("0080")).toEqual(["128", "0080"]);
    expect(serial("00ff")).toEqual(["255", "00ff"]);
    const twenty = "00" + "f1".repeat(20);
    expect(serial(twenty)).toEqual([BigInt(`0x${"f1".repeat(20)}`).toString(), twenty]);
  });
});
