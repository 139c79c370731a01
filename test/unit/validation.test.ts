// Validation without the network: trust paths against a realm's anchors, CA pinning, validity, key usage, extended
// key usage and certificate policies, with Keycloak's messages (keycloak-x509.md §4), and the options' parsing.
import { describe, expect, it } from "vitest";
import type { Certificate } from "../../src/x509/certificate.ts";
import { parseAuthenticatorConfig } from "../../src/x509/config.ts";
import { X509ConfigError } from "../../src/x509/errors.ts";
import { TrustStore } from "../../src/x509/trust/trust-store.ts";
import { parseValidationOptions, VALIDATION_KEYS as K, type ValidationOptions } from "../../src/x509/validation/options.ts";
import { javaDate, spacedSerial } from "../../src/x509/validation/outcome.ts";
import { validateChain } from "../../src/x509/validation/validate.ts";
import { buildCert, ext, newKey, type BuiltCert } from "../helpers/certs.ts";
import { dn, name } from "../helpers/der-build.ts";
import { buildPki, clientProfile, intermediateName, rootName } from "../helpers/pki.ts";

const pki = buildPki();
const DAY = 86400_000;
const opts = (config: Record<string, string> = {}): ValidationOptions => parseValidationOptions(config);
const store = (...certs: BuiltCert[]) => new TrustStore(certs.map((c) => c.cert));
const validate = (chain: Certificate[], o: ValidationOptions = opts(), trust = store(pki.root), now = Date.now()) => validateChain(chain, o, { trust, now });
const chain = (...c: BuiltCert[]) => c.map((x) => x.cert);

describe("trust: a path to one of the realm's anchors", () => {
  it("accepts the leaf with its intermediate, or the leaf alone when the realm lists the intermediate", async () => {
    const r = await validate(chain(pki.leaf, pki.intermediate));
    expect(r.ok && r.path.map((c) => c.dn("subject", "legacy").split(",")[0])).toEqual(["EMAILADDRESS=test-user@localhost", "EMAILADDRESS=contact@keycloak.org", "CN=Keycloak Root CA"]);
    expect((await validate(chain(pki.leaf), opts(), store(pki.root, pki.intermediate))).ok).toBe(true);
    // The intermediate alone, listed as the realm's only certificate, is the anchor.
    expect((await validate(chain(pki.leaf), opts(), store(pki.intermediate))).ok).toBe(true);
  });

  it("refuses a chain to another CA, a realm without anchors, and a leaf without its intermediate", async () => {
    const other = buildPki();
    const foreign = await validate(chain(other.leaf, other.intermediate));
    expect(foreign).toMatchObject({ ok: false, code: "UNTRUSTED", message: "Unable to find certificate chain." });
    expect(await validate(chain(pki.leaf, pki.intermediate), opts(), new TrustStore([]))).toMatchObject({ ok: false, code: "UNTRUSTED", detail: "the realm has no trust anchors" });
    const alone = await validate(chain(pki.leaf));
    expect(alone).toMatchObject({ ok: false, code: "UNTRUSTED" });
    expect(!alone.ok && alone.detail).toContain("issued 'EMAILADDRESS=test-user@localhost");
  });

  it("refuses a forged certificate: the right names, another key", async () => {
    const forger = newKey();
    const forged = buildCert({ subject: dn("CN=test-user"), issuer: intermediateName(), signer: forger, extensions: clientProfile({}) });
    const r = await validate(chain(forged, pki.intermediate));
    expect(r).toMatchObject({ ok: false, code: "UNTRUSTED" });
    expect(!r.ok && r.detail).toContain("does not verify with the key of");
  });

  it("refuses an issuer that is not a CA, that may not sign certificates, or whose path length is exceeded", async () => {
    const leafKey = pki.leaf.key;
    const underLeaf = buildCert({ subject: dn("CN=mallory"), issuer: pki.leaf.cert.subject.der, signer: leafKey });
    const r1 = await validate(chain(underLeaf, pki.leaf, pki.intermediate));
    expect(!r1.ok && r1.detail).toContain("is not a CA");

    const rootKey = pki.root.key;
    const noCertSign = buildCert({ subject: dn("CN=Signer Without keyCertSign"), issuer: rootName(), signer: rootKey, extensions: [ext.basicConstraints(true), ext.keyUsage(["cRLSign"])] });
    const byIt = buildCert({ subject: dn("CN=x"), issuer: dn("CN=Signer Without keyCertSign"), signer: noCertSign.key });
    const r2 = await validate(chain(byIt, noCertSign));
    expect(!r2.ok && r2.detail).toContain("keyCertSign is not set");

    // The intermediate has pathLen 0: a CA below it breaks the constraint.
    const sub = buildCert({ subject: dn("CN=Sub CA"), issuer: intermediateName(), signer: pki.intermediate.key, extensions: [ext.basicConstraints(true), ext.keyUsage(["keyCertSign"])] });
    const underSub = buildCert({ subject: dn("CN=deep"), issuer: dn("CN=Sub CA"), signer: sub.key });
    const r3 = await validate(chain(underSub, sub, pki.intermediate));
    expect(!r3.ok && r3.detail).toContain("allows 0 intermediate CA(s) below it, the path has 1");
  });

  it("refuses a certificate with a critical extension x509-idp does not process", async () => {
    const nameConstrained = buildCert({
      subject: dn("CN=x"), issuer: intermediateName(), signer: pki.intermediate.key,
      extensions: [{ oid: "2.5.29.30", critical: true, value: Uint8Array.of(0x30, 0x00) }],
    });
    const r = await validate(chain(nameConstrained, pki.intermediate));
    expect(!r.ok && r.detail).toContain("critical extension x509-idp does not process (2.5.29.30)");
  });

  it("finds the path whatever the order and extras of the presented chain, and takes RSA and EC keys", async () => {
    const other = buildPki();
    expect((await validate(chain(pki.leaf, other.intermediate, pki.root, pki.intermediate))).ok).toBe(true);
    const rsa = buildPki({ alg: "RS256" });
    expect((await validate(chain(rsa.leaf, rsa.intermediate), opts(), store(rsa.root))).ok).toBe(true);
  });

  it("trusts a listed self-signed client certificate as it is", async () => {
    const self = buildCert({ subject: dn("CN=device-42"), extensions: clientProfile({}) });
    expect(await validate(chain(self), opts(), store(self))).toMatchObject({ ok: true });
    expect(await validate(chain(self))).toMatchObject({ ok: false, code: "UNTRUSTED" });
  });
});

describe("the client's certificate is an end entity (RFC 5280 §4.2.1.9)", () => {
  const caLeaf = () => pki.issue({ cn: "sub-ca", serial: 9300, extensions: [ext.basicConstraints(true), ...clientProfile({})] });

  it("refuses a CA certificate (cA: TRUE) as the client's certificate, even one the realm lists", async () => {
    const r = await validate(chain(caLeaf(), pki.intermediate));
    expect(r).toMatchObject({ ok: false, code: "CA_CERTIFICATE", message: "The client certificate is a CA certificate, not an end entity." });
    expect(await validate(chain(pki.intermediate), opts(), store(pki.root))).toMatchObject({ ok: false, code: "CA_CERTIFICATE" });
    expect(await validate(chain(pki.root), opts(), store(pki.root))).toMatchObject({ ok: false, code: "CA_CERTIFICATE" });
  });

  it("accepts it with x509-idp.allow-ca-certificate, and accepts cA: FALSE or no basicConstraints by default", async () => {
    expect((await validate(chain(caLeaf(), pki.intermediate), opts({ [K.allowCaCertificate]: "true" }))).ok).toBe(true);
    expect((await validate(chain(pki.issue({ cn: "ee", serial: 9301, extensions: [ext.basicConstraints(false), ...clientProfile({})] }), pki.intermediate))).ok).toBe(true);
    expect((await validate(chain(pki.leaf, pki.intermediate))).ok).toBe(true);
  });
});

describe("CA pinning by SHA-256 fingerprint (not by DN, which two CAs can share)", () => {
  it("accepts a path through a pinned CA and refuses one through a CA of the same name", async () => {
    const pinned = opts({ [K.caPins]: pki.intermediate.cert.sha256.replace(/(..)(?!$)/g, "$1:").toUpperCase() });
    expect((await validate(chain(pki.leaf, pki.intermediate), pinned)).ok).toBe(true);
    const twin = buildPki(); // same names, other keys
    const r = await validate(chain(twin.leaf, twin.intermediate), pinned, store(pki.root, twin.root));
    expect(r).toMatchObject({ ok: false, code: "CA_PIN", message: "Invalid trust anchor for the certificate" });
  });
});

describe("validity of every certificate of the path", () => {
  it("reports an expired or not yet valid client certificate with Keycloak's message", async () => {
    const expired = pki.issue({ cn: "old", serial: 4105, notBefore: new Date(Date.now() - 20 * DAY), notAfter: new Date(Date.now() - DAY) });
    const r = await validate(chain(expired, pki.intermediate));
    expect(r).toMatchObject({ ok: false, code: "CERT_EXPIRED", message: `certificate with serialnumber '10 09' has expired on: ${javaDate(expired.cert.notAfter)}` });
    const future = pki.issue({ cn: "new", serial: 161, notBefore: new Date(Date.now() + DAY) });
    expect(await validate(chain(future, pki.intermediate))).toMatchObject({ ok: false, code: "CERT_NOT_YET_VALID", message: `certificate with serialnumber 'a1' is not valid yet: ${javaDate(future.cert.notBefore)}` });
  });

  it("checks the intermediate and the anchor too, at the given time", async () => {
    const later = pki.intermediate.cert.notAfter + DAY;
    const r = await validate(chain(pki.leaf, pki.intermediate), opts(), store(pki.root), later);
    expect(r).toMatchObject({ ok: false, code: "CERT_EXPIRED" });
    expect(!r.ok && r.message).toContain("'10 09'"); // the leaf expires first
  });

  it("reports an expired intermediate or a root not yet valid while the client's certificate is fine", async () => {
    const expiredInter = buildCert({
      subject: intermediateName(), issuer: rootName(), serial: 2, key: pki.intermediate.key, signer: pki.root.key,
      notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY),
      extensions: [ext.basicConstraints(true, 0), ext.keyUsage(["keyCertSign", "cRLSign"])],
    });
    expect(await validate([pki.leaf.cert, expiredInter.cert])).toMatchObject({ ok: false, code: "CERT_EXPIRED", message: expect.stringContaining("serialnumber '2' has expired") });
    const futureRoot = buildCert({ subject: rootName(), serial: 77, key: pki.root.key, notBefore: new Date(Date.now() + DAY), extensions: [ext.basicConstraints(true), ext.keyUsage(["keyCertSign"])] });
    expect(await validate(chain(pki.leaf, pki.intermediate), opts(), store(futureRoot))).toMatchObject({ ok: false, code: "CERT_NOT_YET_VALID", message: expect.stringContaining("serialnumber '4d'") });
  });

  it("formats serials and dates as Java does", () => {
    expect(spacedSerial("4105")).toBe("10 09");
    expect(spacedSerial("2748")).toBe("ab c");
    expect(spacedSerial("-1234")).toBe("-4 d2");
    expect(javaDate(Date.UTC(2026, 10, 22, 12, 20, 18))).toBe("Sun Nov 22 12:20:18 UTC 2026");
  });
});

describe("key usage", () => {
  it("passes when every configured bit is set, by any case", async () => {
    expect((await validate(chain(pki.leaf, pki.intermediate), opts({ [K.keyUsage]: "digitalSignature, KEYENCIPHERMENT" }))).ok).toBe(true);
  });

  it("names each missing bit, one per line", async () => {
    const r = await validate(chain(pki.leaf, pki.intermediate), opts({ [K.keyUsage]: "dataEncipherment,keyAgreement,digitalSignature" }));
    expect(r).toMatchObject({ ok: false, code: "KEY_USAGE", message: "Key Usage bit 'dataEncipherment' is not set.\nKey Usage bit 'keyAgreement' is not set." });
  });

  it("fails without the extension", async () => {
    const bare = pki.issue({ cn: "bare", serial: 7, extensions: [] });
    expect(await validate(chain(bare, pki.intermediate), opts({ [K.keyUsage]: "digitalSignature" }))).toMatchObject({ ok: false, message: "Key usage extension is expected, but unavailable." });
  });

  it("enforces a non-critical key usage too, unless the legacy rule is asked for", async () => {
    const soft = pki.issue({ cn: "soft", serial: 8, extensions: [ext.keyUsage(["digitalSignature"], false)] });
    const o = { [K.keyUsage]: "dataEncipherment" };
    expect(await validate(chain(soft, pki.intermediate), opts(o))).toMatchObject({ ok: false, code: "KEY_USAGE" });
    const legacy = await validate(chain(soft, pki.intermediate), opts({ ...o, [K.legacyCriticalBehavior]: "true" }));
    expect(legacy).toMatchObject({ ok: true, warnings: ["Key Usage bit 'dataEncipherment' is not set."] });
    // A critical key usage fails under the legacy rule as well.
    expect(await validate(chain(pki.leaf, pki.intermediate), opts({ ...o, [K.legacyCriticalBehavior]: "true" }))).toMatchObject({ ok: false, code: "KEY_USAGE" });
  });
});

describe("extended key usage, by OID or by name", () => {
  it("accepts clientAuth by name and by OID, refuses serverAuth, naming it as configured", async () => {
    const c = chain(pki.leaf, pki.intermediate);
    expect((await validate(c, opts({ [K.extendedKeyUsage]: "clientAuth" }))).ok).toBe(true);
    expect((await validate(c, opts({ [K.extendedKeyUsage]: "1.3.6.1.5.5.7.3.2;emailProtection" }))).ok).toBe(true);
    expect(await validate(c, opts({ [K.extendedKeyUsage]: "serverAuth" }))).toMatchObject({ ok: false, code: "EXTENDED_KEY_USAGE", message: "Extended Key Usage 'serverAuth' is missing." });
    expect(await validate(c, opts({ [K.extendedKeyUsage]: "1.3.6.1.5.5.7.3.1" }))).toMatchObject({ ok: false, message: "Extended Key Usage '1.3.6.1.5.5.7.3.1' is missing." });
  });

  it("fails without the extension; lets a non-critical mismatch through only under the legacy rule", async () => {
    const bare = pki.issue({ cn: "bare", serial: 9, extensions: [] });
    expect(await validate(chain(bare, pki.intermediate), opts({ [K.extendedKeyUsage]: "clientAuth" }))).toMatchObject({ ok: false, message: "Extended key usage extension is expected, but unavailable" });
    const legacy = await validate(chain(pki.leaf, pki.intermediate), opts({ [K.extendedKeyUsage]: "serverAuth", [K.legacyCriticalBehavior]: "true" }));
    expect(legacy).toMatchObject({ ok: true, warnings: ["Extended Key Usage 'serverAuth' is missing."] });
  });
});

describe("certificate policies: Keycloak's matrix (CertificateValidatorTest)", () => {
  const P = ["1.3.76.16.2.1", "1.2.3.4.5.6", "1.2.3.4.5", "1.2.3.4"];
  const withPolicies = (policies: string[]) => pki.issue({ cn: "p", serial: 10, extensions: policies.length ? [ext.policies(policies)] : [ext.keyUsage(["digitalSignature"])] });
  const subsets = [[], [P[0]], [P[0], P[1]], [P[2]], [P[1], P[2], P[3]]] as string[][];

  it.each(subsets.flatMap((requested) => subsets.slice(1).flatMap((present) => (["All", "Any"] as const).map((mode) => [requested, present, mode] as const))))(
    "requested %j, present %j, mode %s",
    async (requested, present, mode) => {
      const r = await validate(chain(withPolicies(present), pki.intermediate), opts({ [K.certificatePolicy]: requested.join(","), [K.certificatePolicyMode]: mode }));
      const expected = requested.length === 0 || (mode === "All" ? requested.every((p) => present.includes(p)) : requested.some((p) => present.includes(p)));
      expect(r.ok).toBe(expected);
      if (!r.ok) {
        expect(r.code).toBe("CERTIFICATE_POLICY");
        if (mode === "Any") expect(r.message).toBe(`Certificate Policy check failed: mode = ANY, found = '${present.join(",")}', expected = '${requested.join(",")}'.`);
        else expect(r.message).toBe(`Certificate Policy check failed: mode = ALL, certificate policy '${requested.find((p) => !present.includes(p))}' is missing.`);
      }
    },
  );

  it("says so when the certificate has no policies at all", async () => {
    const r = await validate(chain(withPolicies([]), pki.intermediate), opts({ [K.certificatePolicy]: P[0] as string }));
    expect(r).toMatchObject({ ok: false, message: "Certificate Policy validation was expected, but no certificate policy extensions were found" });
  });
});

describe("the order of checks: trust first, so an untrusted certificate is never judged on anything else", () => {
  it("reports UNTRUSTED for an expired certificate of another CA with wrong key usage", async () => {
    const other = buildPki();
    const bad = other.issue({ cn: "x", serial: 1, notAfter: new Date(Date.now() - DAY), extensions: [] });
    expect(await validate(chain(bad, other.intermediate), opts({ [K.keyUsage]: "dataEncipherment" }))).toMatchObject({ code: "UNTRUSTED" });
  });
});

describe("options: Keycloak's keys and values, refused with the key named when saved", () => {
  it("takes Keycloak's model defaults, except abort-if-stale (true) ", () => {
    const o = opts();
    expect(o).toMatchObject({ timestampValidation: false, keyUsage: [], extendedKeyUsage: [], certificatePolicyMode: "all", legacyCriticalBehavior: false });
    expect(o.crl).toEqual({ enabled: false, distributionPoints: false, locations: [], abortIfStale: true });
    expect(o.ocsp).toMatchObject({ enabled: false, failOpen: false, responderUri: undefined, sha256CertId: false });
  });

  it("reads a Keycloak export's values", () => {
    const o = opts({
      [K.crlEnabled]: "true", [K.crlPaths]: "crl/intermediate.crl##http://pki.example/a.crl##ldap://ldap.example/cn=CA,dc=example?certificateRevocationList;binary",
      [K.crlAbortIfStale]: "false", [K.ocspEnabled]: "TRUE", [K.ocspResponderUri]: "http://ocsp.example/", [K.certificatePolicyMode]: "any", [K.keyUsage]: "",
    });
    expect(o.crl.locations.map((l) => [l.kind, l.text])).toEqual([["file", "crl/intermediate.crl"], ["url", "http://pki.example/a.crl"], ["url", "ldap://ldap.example/cn=CA,dc=example?certificateRevocationList;binary"]]);
    expect(o.crl.abortIfStale).toBe(false);
    expect(o.ocsp.responderUri?.href).toBe("http://ocsp.example/");
    expect(o.certificatePolicyMode).toBe("any");
  });

  it.each([
    [K.keyUsage, "digitalSignature, signEverything", 'unknown key usage "signEverything"'],
    [K.extendedKeyUsage, "clientAuth, notAUsage", '"notAUsage" is neither an OID nor a known extended key usage'],
    [K.certificatePolicy, "1.2.3, policy-a", '"policy-a" is not an OID'],
    [K.certificatePolicyMode, "Some", 'expected "All" or "Any"'],
    [K.crlEnabled, "yes", 'expected "true" or "false"'],
    [K.crlPaths, "../etc/passwd.crl", '".." is not allowed'],
    [K.crlPaths, "/etc/ssl/ca.crl", "relative to the CRL folder"],
    [K.crlPaths, "file:///etc/ssl/ca.crl", "only http, https, ldap and ldaps URLs or file names"],
    [K.ocspResponderUri, "ldap://ocsp.example", "is not an http or https URL"],
    [K.ocspResponderCertificate, "MIIBnonsense", "not a certificate"],
    [K.caPins, "abcd", "is not a SHA-256 fingerprint"],
    [K.fetchAllowedHosts, "pki.example##http://x", "is not a host name"],
  ])("%s = %j is refused", (key, value, message) => {
    try {
      opts({ [key]: value });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(X509ConfigError);
      expect((e as X509ConfigError).key).toBe(key);
      expect((e as Error).message).toContain(message);
    }
  });

  it("needs a CRL location when CRL checking is on without distribution points", () => {
    expect(() => opts({ [K.crlEnabled]: "true" })).toThrow(/x509-cert-auth.crl-relative-path: CRL checking is on/);
    expect(opts({ [K.crlEnabled]: "true", [K.crlDistributionPoints]: "true" }).crl.distributionPoints).toBe(true);
  });

  it("parses a whole Keycloak authenticator config, keeping keys it does not know without failing", () => {
    const c = parseAuthenticatorConfig({
      "x509-cert-auth.mapping-source-selection": "Subject's e-mail",
      "x509-cert-auth.confirmation-page-disallowed": "true",
      "x509-cert-auth.keyusage": "digitalSignature",
      "x509-cert-auth.some-future-key": "x",
    });
    expect(c.identity.source).toBe("subject-email");
    expect(c.validation.keyUsage).toEqual(["digitalSignature"]);
    expect(c.bypassConfirmation).toBe(true);
    expect(c.ignoredKeys).toEqual(["x509-cert-auth.some-future-key"]);
  });
});

describe("trust store", () => {
  it("anchors roots and the top of what was listed; keeps the rest as intermediates; ignores duplicates", () => {
    const s = store(pki.root, pki.intermediate, pki.intermediate);
    expect(s.certificates.map((t) => [t.cert.dn("subject", "legacy").split(",")[0], t.anchor])).toEqual([
      ["CN=Keycloak Root CA", true],
      ["EMAILADDRESS=contact@keycloak.org", false],
    ]);
    expect(store(pki.intermediate).anchors.length).toBe(1);
  });

  it("refuses a PEM entry that is not a certificate, naming it", () => {
    expect(() => TrustStore.fromPem([pki.root.pem, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"])).toThrow(/trustAnchors: entry 2 is not a certificate/);
  });
});

describe("signature algorithms", () => {
  it("refuses SHA-1 signatures", async () => {
    const r = await validate([sha1Signed(), pki.intermediate.cert]);
    expect(r).toMatchObject({ ok: false, code: "UNTRUSTED" });
    expect(!r.ok && r.detail).toContain("ecdsa-with-SHA1 signatures are not accepted");
  });
});

/** A client certificate whose signature algorithm says ecdsa-with-SHA1 (re-signed with SHA-1 to be consistent). */
function sha1Signed(): Certificate {
  const c = buildCert({ subject: name([[["CN", "utf8", "sha1"]]]), issuer: intermediateName(), signer: pki.intermediate.key, sha1: true });
  return c.cert;
}
