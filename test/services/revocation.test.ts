// Revocation checking against real servers started here: CRLs over HTTP (node:http), from files, over LDAP (slapd),
// and OCSP answered by OpenSSL's responder. Also: nothing is fetched for an untrusted certificate.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRevocationChecker } from "../../src/net/revocation.ts";
import type { Certificate } from "../../src/x509/certificate.ts";
import { readContainedFile } from "../../src/x509/revocation/fetch.ts";
import { TrustStore } from "../../src/x509/trust/trust-store.ts";
import { parseValidationOptions, VALIDATION_KEYS as K } from "../../src/x509/validation/options.ts";
import type { ValidationOutcome } from "../../src/x509/validation/outcome.ts";
import { validateChain } from "../../src/x509/validation/validate.ts";
import { buildCert, ext, type BuiltCert } from "../helpers/certs.ts";
import { tempDir } from "../helpers/db.ts";
import { dn } from "../helpers/der-build.ts";
import { buildCrl, buildPki, crlNumber, deltaCrlIndicator, intermediateCrl, intermediateName, ocspSigner, onlyCaCerts, rootName, type Pki } from "../helpers/pki.ts";
import { startHttpServer, startOcspResponder, startSlapd, type CrlServer, type OcspResponder, type Slapd } from "../helpers/revocation-servers.ts";

const DAY = 86400_000;
let web: CrlServer;
let slapd: Slapd;
let crlDir: string;
let pki: Pki;
let clock = Date.now();

function checker(overrides: { timeoutMs?: number; crlMaxBytes?: number; minReload?: number; failureCache?: number } = {}) {
  return createRevocationChecker(
    {
      crlDir, fetchTimeoutMs: overrides.timeoutMs ?? 3000, crlMaxBytes: overrides.crlMaxBytes ?? 100 * 1024 * 1024, crlMinReloadSeconds: overrides.minReload ?? 10,
      crlMaxAgeSeconds: undefined, failureCacheSeconds: overrides.failureCache ?? 30,
    },
    () => clock,
  );
}

let revocation = checker();
const validate = (chain: Certificate[], config: Record<string, string>, trust = new TrustStore([pki.root.cert])): Promise<ValidationOutcome> =>
  validateChain(chain, parseValidationOptions(config), { trust, revocation, now: clock });
const leafChain = () => [pki.leaf.cert, pki.intermediate.cert];

beforeAll(async () => {
  web = await startHttpServer();
  slapd = await startSlapd();
  crlDir = tempDir("x509idp-crl-");
  pki = buildPki({ crlUrls: [`${web.base}/intermediate.crl`], ocspUrls: [`${web.base}/no-ocsp-here`] });
}, 60_000);
afterAll(async () => {
  await web?.close();
  await slapd?.stop();
  fs.rmSync(crlDir, { recursive: true, force: true });
});
beforeEach(() => {
  clock = Date.now();
  revocation = checker();
  web.routes.clear();
  web.requests.length = 0;
});

describe("CRL over HTTP", () => {
  const config = () => ({ [K.crlEnabled]: "true", [K.crlPaths]: `${web.base}/intermediate.crl` });

  it("passes a certificate the CRL does not list, and refuses one it lists with Keycloak's message", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { revoked: [{ serial: 1 }, { serial: 7 }] }));
    expect(await validate(leafChain(), config())).toMatchObject({ ok: true });
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { revoked: [{ serial: 4105 }] }));
    revocation = checker();
    expect(await validate(leafChain(), config())).toMatchObject({
      ok: false, code: "CERT_REVOKED",
      message: "Certificate has been revoked, certificate's subject: EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, L=Boston, ST=MA, C=US",
    });
    expect(web.requests[0]).toMatchObject({ method: "GET", path: "/intermediate.crl" });
  });

  it("downloads a CRL once while it is current (the second login does not refetch)", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki));
    for (let i = 0; i < 5; i++) expect((await validate(leafChain(), config())).ok).toBe(true);
    expect(web.count("/intermediate.crl")).toBe(1);
    expect(revocation.crlCache.loads).toBe(1);
  });

  it("shares one download between concurrent logins", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki));
    const results = await Promise.all(Array.from({ length: 8 }, () => validate(leafChain(), config())));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(web.count("/intermediate.crl")).toBe(1);
  });

  it("reloads a CRL past its nextUpdate, but not more often than the minimum interval (Keycloak's loginTestCRLCaching)", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { nextUpdate: new Date(clock + 60_000) }));
    expect((await validate(leafChain(), config())).ok).toBe(true);
    // The CA publishes a new CRL revoking the user; ours is current for another minute.
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { revoked: [{ serial: 4105 }], nextUpdate: new Date(clock + 3600_000) }));
    expect((await validate(leafChain(), config())).ok).toBe(true);
    expect(web.count("/intermediate.crl")).toBe(1);
    clock += 61_000; // past nextUpdate: reload
    expect(await validate(leafChain(), config())).toMatchObject({ code: "CERT_REVOKED" });
    expect(web.count("/intermediate.crl")).toBe(2);
    clock += 1800_000; // still current
    expect(await validate(leafChain(), config())).toMatchObject({ code: "CERT_REVOKED" });
    expect(web.count("/intermediate.crl")).toBe(2);
    revocation.crlCache.clear(); // the admin's clear-crl-cache
    await validate(leafChain(), config());
    expect(web.count("/intermediate.crl")).toBe(3);
  });

  it("a stale CRL: refused by default (CRL is not refreshed), used with a warning when abort-if-stale is false; reloaded at most every 10 s", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { thisUpdate: new Date(clock - 7 * DAY), nextUpdate: new Date(clock - DAY) }));
    const r = await validate(leafChain(), config());
    expect(r).toMatchObject({ ok: false, code: "CRL_STALE", message: "CRL is not refreshed" });
    expect(!r.ok && r.detail).toMatch(/^CRL from 'http:\/\/127\.0\.0\.1:\d+\/intermediate\.crl' is not refreshed\. Next update is \w{3} \w{3} \d\d/);
    const lenient = await validate(leafChain(), { ...config(), [K.crlAbortIfStale]: "false" });
    expect(lenient.ok).toBe(true);
    expect(lenient.warnings[0]).toMatch(/is not refreshed/);
    expect(web.count("/intermediate.crl")).toBe(1); // within the minimum interval
    clock += 11_000;
    await validate(leafChain(), config());
    expect(web.count("/intermediate.crl")).toBe(2);
  });

  it("refuses a CRL signed by another key, a missing CRL, an oversized one and a server that does not answer", async () => {
    const other = buildPki();
    web.routes.set("/intermediate.crl", buildCrl({ issuer: intermediateName(), signer: other.intermediate.key }));
    expect(await validate(leafChain(), config())).toMatchObject({
      ok: false, code: "CRL_UNAVAILABLE", message: "Not available certificate for CRL issuer 'EMAILADDRESS=contact@keycloak.org, CN=Keycloak Intermediate CA, OU=Keycloak, O=Red Hat, ST=MA, C=US' in the truststore, nor in the CA chain",
    });
    revocation = checker();
    web.routes.set("/intermediate.crl", 404);
    const missing = await validate(leafChain(), config());
    expect(missing).toMatchObject({ ok: false, code: "CRL_UNAVAILABLE", message: "Unable to load CRL" });
    expect(!missing.ok && missing.detail).toContain("answered HTTP 404");

    revocation = checker({ crlMaxBytes: 2048 });
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { revoked: Array.from({ length: 200 }, (_, i) => ({ serial: 10_000 + i })) }));
    const big = await validate(leafChain(), config());
    expect(!big.ok && big.detail).toContain("more than the 2048 allowed");

    revocation = checker({ timeoutMs: 300 });
    web.routes.set("/intermediate.crl", "hang");
    const t0 = Date.now();
    const slow = await validate(leafChain(), config());
    expect(!slow.ok && slow.detail).toContain("did not answer within 300 ms");
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("remembers a failed download for IDP_REVOCATION_FAILURE_CACHE_SECONDS: one request, the next logins answer at once and say so", async () => {
    web.routes.set("/intermediate.crl", 500);
    const first = await validate(leafChain(), config());
    expect(first).toMatchObject({ ok: false, code: "CRL_UNAVAILABLE", message: "Unable to load CRL" });
    expect(!first.ok && first.cachedFailure).toBeFalsy();
    for (let i = 0; i < 3; i++) {
      const again = await validate(leafChain(), config());
      expect(again).toMatchObject({ ok: false, code: "CRL_UNAVAILABLE", message: "Unable to load CRL", cachedFailure: true });
      expect(!again.ok && again.detail).toMatch(/an earlier attempt failed/);
    }
    expect(web.count("/intermediate.crl")).toBe(1);
    web.routes.set("/intermediate.crl", intermediateCrl(pki));
    clock += 31_000; // the failure is forgotten: the location is tried again
    expect((await validate(leafChain(), config())).ok).toBe(true);
    expect(web.count("/intermediate.crl")).toBe(2);
    // 0 remembers nothing: every login tries again.
    revocation = checker({ failureCache: 0 });
    web.routes.set("/intermediate.crl", 500);
    for (let i = 0; i < 2; i++) await validate(leafChain(), config());
    expect(web.count("/intermediate.crl")).toBe(4);
  });

  it("never leaks the location in the client's message, only in the detail", async () => {
    web.routes.set("/intermediate.crl", 500);
    const r = await validate(leafChain(), config());
    expect(!r.ok && [r.message, r.detail]).toEqual(["Unable to load CRL", expect.stringContaining(`${web.base}/intermediate.crl`)]);
  });

  it("reads PEM CRLs too", async () => {
    const der = intermediateCrl(pki, { revoked: [{ serial: 4105 }] });
    web.routes.set("/intermediate.crl", new TextEncoder().encode(`-----BEGIN X509 CRL-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n")}\n-----END X509 CRL-----\n`));
    expect(await validate(leafChain(), config())).toMatchObject({ code: "CERT_REVOKED" });
  });

  it("refuses a delta CRL as the CRL, and applies a CA-only CRL to CA certificates only", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { extensions: [crlNumber(2), deltaCrlIndicator(1)] }));
    const delta = await validate(leafChain(), config());
    expect(!delta.ok && delta.detail).toContain("a delta CRL is not supported");
    revocation = checker();
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { revoked: [{ serial: 4105 }], extensions: [onlyCaCerts()] }));
    const caOnly = await validate(leafChain(), config());
    expect(caOnly).toMatchObject({ ok: false, code: "CRL_UNAVAILABLE" });
    expect(!caOnly.ok && caOnly.detail).toContain("none of the configured CRLs is from");
  });
});

describe("several CRLs, CRL distribution points, intermediates", () => {
  it("applies each configured CRL to the certificates of its issuer only; every one must load", async () => {
    const rootCrl = buildCrl({ issuer: rootName(), signer: pki.root.key, revoked: [{ serial: 4105 }] }); // the root's serial 4105 is someone else
    web.routes.set("/root.crl", rootCrl);
    web.routes.set("/intermediate.crl", intermediateCrl(pki));
    const both = { [K.crlEnabled]: "true", [K.crlPaths]: `${web.base}/root.crl##${web.base}/intermediate.crl` };
    expect(await validate(leafChain(), both)).toMatchObject({ ok: true });
    web.routes.set("/gone.crl", 404);
    revocation = checker();
    expect(await validate(leafChain(), { ...both, [K.crlPaths]: `${both[K.crlPaths]}##${web.base}/gone.crl` })).toMatchObject({ code: "CRL_UNAVAILABLE" });
  });

  it("checks the intermediate against the root's CRL when asked to", async () => {
    web.routes.set("/root.crl", buildCrl({ issuer: rootName(), signer: pki.root.key, revoked: [{ serial: 2 }] }));
    web.routes.set("/intermediate.crl", intermediateCrl(pki));
    const config = { [K.crlEnabled]: "true", [K.crlPaths]: `${web.base}/root.crl##${web.base}/intermediate.crl` };
    expect((await validate(leafChain(), config)).ok).toBe(true);
    const r = await validate(leafChain(), { ...config, [K.checkIntermediates]: "true" });
    expect(r).toMatchObject({ ok: false, code: "CERT_REVOKED", message: expect.stringContaining("CN=Keycloak Intermediate CA") });
  });

  it("CDP mode: reads the CRL the certificate points at; a certificate without distribution points fails", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki, { revoked: [{ serial: 4105 }] }));
    const cdp = { [K.crlEnabled]: "true", [K.crlDistributionPoints]: "true" };
    expect(await validate(leafChain(), cdp)).toMatchObject({ code: "CERT_REVOKED" });
    const noCdp = pki.issue({ cn: "nocdp", serial: 5, extensions: [] });
    expect(await validate([noCdp.cert, pki.intermediate.cert], cdp)).toMatchObject({
      code: "CRL_UNAVAILABLE", message: "Could not find any CRL distribution points in the certificate, unable to check the certificate revocation status using CRL/DP.",
    });
  });

  it("fetches only from allowed hosts when an allow-list is set", async () => {
    web.routes.set("/intermediate.crl", intermediateCrl(pki));
    const r = await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlDistributionPoints]: "true", [K.fetchAllowedHosts]: "pki.example.org##*.example.org" });
    expect(!r.ok && r.detail).toContain("is not in x509-idp.fetch-allowed-hosts");
    expect(web.requests).toEqual([]);
    expect((await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlDistributionPoints]: "true", [K.fetchAllowedHosts]: `127.0.0.1:${new URL(web.base).port}` })).ok).toBe(true);
  });
});

describe("CRL files", () => {
  it("reads a CRL file inside the CRL folder, refreshes it like any other source", async () => {
    fs.mkdirSync(path.join(crlDir, "ca"), { recursive: true });
    fs.writeFileSync(path.join(crlDir, "ca", "intermediate.crl"), intermediateCrl(pki, { revoked: [{ serial: 4105 }] }));
    expect(await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlPaths]: "ca/intermediate.crl" })).toMatchObject({ code: "CERT_REVOKED" });
    const missing = await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlPaths]: "ca/none.crl" });
    expect(missing).toMatchObject({ code: "CRL_UNAVAILABLE", message: "Unable to load CRL" });
  });

  it("refuses paths that leave the folder, even through a symbolic link", async () => {
    const outside = tempDir("x509idp-outside-");
    fs.writeFileSync(path.join(outside, "x.crl"), intermediateCrl(pki));
    fs.symlinkSync(path.join(outside, "x.crl"), path.join(crlDir, "link.crl"));
    await expect(readContainedFile(crlDir, "link.crl", 1 << 20)).rejects.toThrow(/resolves outside the CRL folder/);
    await expect(readContainedFile(crlDir, `../${path.basename(outside)}/x.crl`, 1 << 20)).rejects.toThrow(/resolves outside the CRL folder/);
    const r = await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlPaths]: "link.crl" });
    expect(r).toMatchObject({ code: "CRL_UNAVAILABLE", message: "Unable to load CRL" });
    fs.rmSync(outside, { recursive: true, force: true });
  });
});

describe("CRL over LDAP (slapd)", () => {
  it("reads certificateRevocationList;binary of the entry an LDAP URL names, from the configuration or a distribution point", async () => {
    const dnGood = slapd.addCrl("good", intermediateCrl(pki));
    const dnRevoked = slapd.addCrl("revoked", intermediateCrl(pki, { revoked: [{ serial: 4105 }] }));
    const url = (dn: string) => `${slapd.url}/${encodeURIComponent(dn)}?certificateRevocationList;binary`;
    expect((await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlPaths]: url(dnGood) })).ok).toBe(true);
    expect(await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlPaths]: `${slapd.url}/${dnRevoked}` })).toMatchObject({ code: "CERT_REVOKED" });
    const viaCdp = pki.issue({ cn: "ldap-user", serial: 4105, extensions: [ext.crlDistributionPoints([url(dnRevoked)])] });
    expect(await validate([viaCdp.cert, pki.intermediate.cert], { [K.crlEnabled]: "true", [K.crlDistributionPoints]: "true" })).toMatchObject({ code: "CERT_REVOKED" });
    const none = await validate(leafChain(), { [K.crlEnabled]: "true", [K.crlPaths]: url(`cn=missing,${slapd.suffix}`) });
    expect(none).toMatchObject({ code: "CRL_UNAVAILABLE", message: "Unable to load CRL" });
  });
});

describe("OCSP (openssl ocsp)", () => {
  let responder: OcspResponder;
  let delegated: OcspResponder;
  let noEku: OcspResponder;
  let foreign: OcspResponder;
  let foreignSigner: BuiltCert;
  const entries = [{ serial: 4105, status: "V" as const }, { serial: 666, status: "R" as const, reason: "keyCompromise", revokedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) }];

  beforeAll(async () => {
    responder = await startOcspResponder({ ca: pki.intermediate, signer: pki.intermediate, entries, nextUpdateMinutes: 60 });
    delegated = await startOcspResponder({ ca: pki.intermediate, signer: ocspSigner(pki.intermediate, intermediateName()), entries });
    noEku = await startOcspResponder({ ca: pki.intermediate, signer: ocspSigner(pki.intermediate, intermediateName(), { eku: false, cn: "No EKU Signer" }), entries });
    foreignSigner = buildCert({ subject: dn("CN=Independent OCSP Responder"), extensions: [ext.extKeyUsage(["OCSPSigning"])] });
    foreign = await startOcspResponder({ ca: pki.intermediate, signer: foreignSigner, entries });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([responder, delegated, noEku, foreign].map((r) => r?.stop()));
  });

  const using = (r: OcspResponder, extra: Record<string, string> = {}) => ({ [K.ocspEnabled]: "true", [K.ocspResponderUri]: r.url, ...extra });
  const revokedUser = () => pki.issue({ cn: "revoked", serial: 666 });
  const unknownUser = () => pki.issue({ cn: "unknown", serial: 777 });

  it("good, revoked (with reason and date), unknown", async () => {
    expect((await validate(leafChain(), using(responder))).ok).toBe(true);
    expect(await validate([revokedUser().cert, pki.intermediate.cert], using(responder))).toMatchObject({
      ok: false, code: "CERT_REVOKED", message: "Certificate's been revoked.\nKEY_COMPROMISE\nRevoked on: Fri Jan 02 03:04:05 UTC 2026",
    });
    expect(await validate([unknownUser().cert, pki.intermediate.cert], using(responder))).toMatchObject({ ok: false, code: "OCSP_UNKNOWN", message: "Unable to determine certificate's revocation status." });
  });

  it("caches answers with a nextUpdate, and asks again for answers without one", async () => {
    const before = await responder.requests();
    for (let i = 0; i < 3; i++) expect((await validate(leafChain(), using(responder))).ok).toBe(true);
    expect((await responder.requests()) - before).toBe(1);
    revocation = checker(); // the answer above is cached per certificate, whichever responder is asked
    const beforeDelegated = await delegated.requests();
    for (let i = 0; i < 2; i++) expect((await validate(leafChain(), using(delegated))).ok).toBe(true);
    expect((await delegated.requests()) - beforeDelegated).toBe(2); // no nextUpdate: never cached
  });

  it("accepts a delegated responder with id-kp-OCSPSigning, refuses one without", async () => {
    expect((await validate(leafChain(), using(delegated))).ok).toBe(true);
    expect(await validate(leafChain(), using(noEku))).toMatchObject({ ok: false, code: "OCSP_UNAVAILABLE", message: "Responder's certificate not valid for signing OCSP responses" });
  });

  it("accepts an independent responder only when its certificate is configured", async () => {
    expect(await validate(leafChain(), using(foreign))).toMatchObject({ ok: false, message: "Responder's certificate is not authorized to sign OCSP responses" });
    const configured = using(foreign, { [K.ocspResponderCertificate]: foreignSigner.pem.replace(/-----[^-]+-----|\s/g, "") });
    expect((await validate(leafChain(), configured)).ok).toBe(true);
  });

  it("a responder that hangs costs the timeout once: the next logins answer at once for the failure-cache time, and say so", async () => {
    revocation = checker({ timeoutMs: 300 });
    web.routes.set("/ocsp-hangs", "hang");
    const hangs = { [K.ocspEnabled]: "true", [K.ocspResponderUri]: `${web.base}/ocsp-hangs` };
    let t0 = Date.now();
    const first = await validate(leafChain(), hangs);
    expect(first).toMatchObject({ ok: false, code: "OCSP_UNAVAILABLE" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    t0 = Date.now();
    const second = await validate([pki.issue({ cn: "other", serial: 4106 }).cert, pki.intermediate.cert], hangs);
    expect(second).toMatchObject({ ok: false, code: "OCSP_UNAVAILABLE", cachedFailure: true });
    expect(Date.now() - t0).toBeLessThan(150);
    const open = await validate(leafChain(), { ...hangs, [K.ocspFailOpen]: "true" });
    expect(open.ok).toBe(true);
    expect(open.warnings.join("\n")).toMatch(/OCSP fail-open: .*an earlier attempt failed/);
    expect(web.count("/ocsp-hangs")).toBe(1);
    // After the failure-cache time the responder is asked again; a responder that answers is not affected meanwhile.
    expect((await validate(leafChain(), using(responder))).ok).toBe(true);
    clock += 31_000;
    await validate([pki.issue({ cn: "third", serial: 4107 }).cert, pki.intermediate.cert], hangs);
    expect(web.count("/ocsp-hangs")).toBe(2);
  });

  it("an unreachable responder fails closed, or passes with a warning when fail-open", async () => {
    const down = { [K.ocspEnabled]: "true", [K.ocspResponderUri]: "http://127.0.0.1:9/" };
    expect(await validate(leafChain(), down)).toMatchObject({ ok: false, code: "OCSP_UNAVAILABLE", message: "OCSP check failed" });
    const open = await validate(leafChain(), { ...down, [K.ocspFailOpen]: "true" });
    expect(open.ok).toBe(true);
    expect(open.warnings[0]).toContain("OCSP fail-open");
    // Fail-open still fails on an explicit REVOKED, and lets UNKNOWN through.
    expect(await validate([revokedUser().cert, pki.intermediate.cert], using(responder, { [K.ocspFailOpen]: "true" }))).toMatchObject({ code: "CERT_REVOKED" });
    expect((await validate([unknownUser().cert, pki.intermediate.cert], using(responder, { [K.ocspFailOpen]: "true" }))).ok).toBe(true);
  });

  it("uses the certificate's AIA URLs in order when no responder is configured", async () => {
    const user = pki.issue({ cn: "aia", serial: 4105, extensions: [ext.authorityInfoAccess({ ocsp: ["http://127.0.0.1:9/", responder.url] })] });
    expect((await validate([user.cert, pki.intermediate.cert], { [K.ocspEnabled]: "true" })).ok).toBe(true);
    const none = pki.issue({ cn: "no-aia", serial: 4105, extensions: [] });
    expect(await validate([none.cert, pki.intermediate.cert], { [K.ocspEnabled]: "true" })).toMatchObject({ code: "OCSP_UNAVAILABLE", message: "No OCSP Responder URI in certificate" });
  });

  it("refuses an answer to another request (a replayed response carries another nonce)", async () => {
    // Capture a real response from openssl for one request, then serve it for the next one.
    const capture = await startHttpServer();
    try {
      const proxy = `${capture.base}/ocsp`;
      const reqBody = await (async () => {
        await validate(leafChain(), { [K.ocspEnabled]: "true", [K.ocspResponderUri]: proxy }).catch(() => undefined);
        return capture.requests[0]?.body as Buffer;
      })();
      const answer = await fetch(delegated.url, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: new Uint8Array(reqBody) });
      capture.routes.set("/ocsp", new Uint8Array(await answer.arrayBuffer()));
      revocation = checker();
      expect(await validate(leafChain(), { [K.ocspEnabled]: "true", [K.ocspResponderUri]: proxy })).toMatchObject({ ok: false, code: "OCSP_UNAVAILABLE", message: "Nonces do not match." });
    } finally {
      await capture.close();
    }
  });

  it("checks the intermediate too when asked, with the root as its issuer", async () => {
    const rootResponder = await startOcspResponder({ ca: pki.root, signer: pki.root, entries: [{ serial: 2, status: "R" }] });
    try {
      const user = pki.issue({ cn: "deep", serial: 4105, extensions: [ext.authorityInfoAccess({ ocsp: [responder.url] })] });
      const inter = buildCert({
        subject: intermediateName(), issuer: rootName(), serial: 2, key: pki.intermediate.key, signer: pki.root.key,
        extensions: [ext.basicConstraints(true, 0), ext.keyUsage(["digitalSignature", "keyCertSign", "cRLSign"]), ext.authorityInfoAccess({ ocsp: [rootResponder.url] })],
      });
      expect((await validate([user.cert, inter.cert], { [K.ocspEnabled]: "true" })).ok).toBe(true);
      expect(await validate([user.cert, inter.cert], { [K.ocspEnabled]: "true", [K.checkIntermediates]: "true" })).toMatchObject({ code: "CERT_REVOKED" });
    } finally {
      await rootResponder.stop();
    }
  });
});

describe("nothing is fetched for a certificate that is not trusted", () => {
  it("an untrusted chain whose CDP and AIA point at the test servers causes no request", async () => {
    const rogue = buildPki({ crlUrls: [`${web.base}/rogue.crl`], ocspUrls: [`${web.base}/rogue-ocsp`] });
    const r = await validate([rogue.leaf.cert, rogue.intermediate.cert], { [K.crlEnabled]: "true", [K.crlDistributionPoints]: "true", [K.ocspEnabled]: "true", [K.ocspFailOpen]: "true" });
    expect(r).toMatchObject({ ok: false, code: "UNTRUSTED" });
    expect(web.requests).toEqual([]);
  });
});
