// Revocation checking of a verified path: CRLs (configured locations or each certificate's distribution points),
// then OCSP, as Keycloak orders them, for the client's certificate and, when configured, the intermediate CAs.
// It runs only after trust is established, so every URL it fetches comes from the configuration or from a
// certificate of a verified path.
//
// A CRL applies to a certificate when it names the certificate's issuer, verifies with the key of that issuer in the
// path (which, if it has key usage, must allow cRLSign) and its scope covers the certificate (end-entity or CA);
// another CA's CRL in the configured list is simply not applied (Keycloak applied every CRL to every certificate, so
// a serial revoked by another CA locked a user out).
import type { Certificate } from "../certificate.ts";
import { CertificateParseError } from "../errors.ts";
import { SignatureError, verifySignedObject } from "../signature.ts";
import { derKey, namesMatch } from "../trust/names.ts";
import type { CrlLocation, ValidationOptions } from "../validation/options.ts";
import { javaDate, ValidationError } from "../validation/outcome.ts";
import type { Crl } from "./crl.ts";
import type { CrlCache } from "./crl-cache.ts";
import { fetchRule, FetchError, readContainedFile, RememberedFailure, type FetchLimits, type HttpClient, type LdapClient } from "./fetch.ts";
import { certId, CRL_REASONS, newNonce, ocspRequest, OcspError, parseOcspResponse, STATUS_MESSAGES, verifyBasicResponse, type SingleResponse } from "./ocsp.ts";
import type { OcspCache } from "./ocsp-cache.ts";

export interface RevocationEnvironment {
  http: HttpClient;
  ldap: LdapClient;
  /** Folder that configured CRL file names are relative to (Keycloak: its conf folder). */
  crlDir: string;
  now: () => number;
  timeoutMs: number;
  crlMaxBytes: number;
  ocspMaxBytes: number;
  crlCache: CrlCache;
  ocspCache: OcspCache;
}

const LDAP_CRL_ATTRIBUTE = "certificateRevocationList;binary";
const subjectOf = (c: Certificate) => c.dn("subject", "legacy");

export class RevocationChecker {
  readonly #env: RevocationEnvironment;

  constructor(env: RevocationEnvironment) {
    this.#env = env;
  }

  get crlCache(): CrlCache {
    return this.#env.crlCache;
  }

  get ocspCache(): OcspCache {
    return this.#env.ocspCache;
  }

  /** Throws a ValidationError when a certificate of `path` is revoked or its status cannot be established. */
  async check(path: readonly Certificate[], o: ValidationOptions, warnings: string[]): Promise<void> {
    if (!o.crl.enabled && !o.ocsp.enabled) return;
    if (path.length < 2) {
      warnings.push("the certificate is itself a trust anchor: there is no issuer to ask about its revocation");
      return;
    }
    const checked = o.checkIntermediates ? path.length - 1 : 1;
    const limits = (maxBytes: number): FetchLimits => ({ timeoutMs: this.#env.timeoutMs, maxBytes, refuse: fetchRule(o.fetchAllowedHosts) });
    if (o.crl.enabled) {
      const configured = o.crl.distributionPoints ? undefined : await this.#loadAll(o.crl.locations, limits(this.#env.crlMaxBytes), warnings);
      for (let i = 0; i < checked; i++) {
        const cert = path[i] as Certificate;
        const issuer = path[i + 1] as Certificate;
        if (configured) this.#checkConfigured(cert, issuer, i > 0, configured, o, warnings);
        else await this.#checkDistributionPoints(cert, issuer, i > 0, o, limits(this.#env.crlMaxBytes), warnings);
      }
    }
    if (o.ocsp.enabled) {
      for (let i = 0; i < checked; i++) await this.#checkOcsp(path[i] as Certificate, path[i + 1] as Certificate, o, limits(this.#env.ocspMaxBytes), warnings);
    }
  }

  // ---- CRL -----------------------------------------------------------------------------------------------------

  async #load(location: CrlLocation, limits: FetchLimits): Promise<{ crl: Crl; warning?: string }> {
    const key = location.kind === "url" ? `url:${location.url.href}` : `file:${location.path}`;
    // The realm's fetch rule is checked before the cache, which realms share.
    const refused = location.kind === "url" ? limits.refuse(location.url) : undefined;
    if (refused) throw new FetchError("NOT_ALLOWED", refused);
    return this.#env.crlCache.get(key, async () => {
      if (location.kind === "file") return readContainedFile(this.#env.crlDir, location.path, limits.maxBytes);
      if (location.url.protocol.startsWith("ldap")) {
        const url = new URL(location.url.href);
        if (!url.search) url.search = `?${LDAP_CRL_ATTRIBUTE}`;
        return this.#env.ldap.readAttribute(url, limits);
      }
      return this.#env.http.get(location.url, { pragma: "no-cache", "cache-control": "no-cache, no-store" }, limits);
    });
  }

  /** Every configured CRL must load (as in Keycloak); a failure names the location only in the detail. */
  async #loadAll(locations: readonly CrlLocation[], limits: FetchLimits, warnings: string[]): Promise<{ location: CrlLocation; crl: Crl }[]> {
    const out: { location: CrlLocation; crl: Crl }[] = [];
    for (const location of locations) {
      try {
        const { crl, warning } = await this.#load(location, limits);
        if (warning) warnings.push(`CRL from '${location.text}': ${warning}`);
        out.push({ location, crl });
      } catch (e) {
        throw new ValidationError("CRL_UNAVAILABLE", "Unable to load CRL", `Unable to load CRL from "${location.text}": ${(e as Error).message}`, e instanceof RememberedFailure);
      }
    }
    return out;
  }

  /** Applies `crl` to `cert` if it is `issuer`'s CRL for certificates like `cert`; returns whether it applied. */
  #apply(crl: Crl, where: string, cert: Certificate, issuer: Certificate, isCa: boolean, o: ValidationOptions, warnings: string[]): boolean {
    if (!namesMatch(crl.issuer, cert.issuer)) return false;
    let signed = false;
    try {
      const ku = issuer.keyUsage;
      signed = (!ku || ku.includes("cRLSign")) && verifySignedObject(crl, issuer.spki, issuer.spkiSha256);
    } catch (e) {
      if (!(e instanceof SignatureError || e instanceof CertificateParseError)) throw e;
    }
    if (!signed) {
      const dn = subjectOf(issuer);
      throw new ValidationError("CRL_UNAVAILABLE", `Not available certificate for CRL issuer '${dn}' in the truststore, nor in the CA chain`, `the CRL from '${where}' does not verify with the key of '${dn}' (or that CA may not sign CRLs)`);
    }
    const now = this.#env.now();
    if (crl.nextUpdate !== undefined && crl.nextUpdate < now) {
      const stale = `CRL from '${where}' is not refreshed. Next update is ${javaDate(crl.nextUpdate)}.`;
      if (o.crl.abortIfStale) throw new ValidationError("CRL_STALE", "CRL is not refreshed", stale);
      warnings.push(stale);
    }
    if ((crl.onlyUserCerts && isCa) || (crl.onlyCaCerts && !isCa)) return false;
    if (crl.isRevoked(cert.serialContent)) {
      throw new ValidationError("CERT_REVOKED", `Certificate has been revoked, certificate's subject: ${subjectOf(cert)}`, `serial ${cert.serialHex} is on the CRL from '${where}'`);
    }
    return true;
  }

  #checkConfigured(cert: Certificate, issuer: Certificate, isCa: boolean, crls: readonly { location: CrlLocation; crl: Crl }[], o: ValidationOptions, warnings: string[]): void {
    let applied = false;
    for (const { location, crl } of crls) applied = this.#apply(crl, location.text, cert, issuer, isCa, o, warnings) || applied;
    if (!applied) {
      throw new ValidationError("CRL_UNAVAILABLE", "Unable to load CRL", `none of the configured CRLs is from '${subjectOf(issuer)}', the issuer of '${subjectOf(cert)}'`);
    }
  }

  async #checkDistributionPoints(cert: Certificate, issuer: Certificate, isCa: boolean, o: ValidationOptions, limits: FetchLimits, warnings: string[]): Promise<void> {
    let points: URL[][];
    try {
      points = cert.crlDistributionPoints.map((dp) => dp.fullName.flatMap((n) => {
        if (n.type !== "uri") return [];
        try {
          const url = new URL(n.value);
          return /^(https?|ldaps?):$/.test(url.protocol) ? [url] : []; // file: and other schemes are never followed
        } catch {
          return [];
        }
      })).filter((urls) => urls.length > 0);
    } catch (e) {
      if (e instanceof CertificateParseError) throw new ValidationError("CRL_UNAVAILABLE", "Unable to load CRL", e.message);
      throw e;
    }
    if (points.length === 0) {
      throw new ValidationError("CRL_UNAVAILABLE", "Could not find any CRL distribution points in the certificate, unable to check the certificate revocation status using CRL/DP.");
    }
    let applied = false;
    for (const urls of points) {
      // The URIs of one distribution point are alternatives for the same CRL: the first that loads is used.
      let loaded: { crl: Crl; where: string } | undefined;
      const failures: string[] = [];
      let remembered = 0;
      for (const url of urls) {
        try {
          const { crl, warning } = await this.#load({ kind: "url", url, text: url.href }, limits);
          if (warning) warnings.push(`CRL from '${url.href}': ${warning}`);
          loaded = { crl, where: url.href };
          break;
        } catch (e) {
          if (e instanceof RememberedFailure) remembered++;
          failures.push(`${url.href}: ${(e as Error).message}`);
        }
      }
      if (!loaded) throw new ValidationError("CRL_UNAVAILABLE", "Unable to load CRL", `Unable to load CRL from ${failures.join("; ")}`, remembered === urls.length);
      applied = this.#apply(loaded.crl, loaded.where, cert, issuer, isCa, o, warnings) || applied;
    }
    if (!applied) throw new ValidationError("CRL_UNAVAILABLE", "Unable to load CRL", `no CRL of the distribution points of '${subjectOf(cert)}' is from its issuer '${subjectOf(issuer)}'`);
  }

  // ---- OCSP ----------------------------------------------------------------------------------------------------

  async #checkOcsp(cert: Certificate, issuer: Certificate, o: ValidationOptions, limits: FetchLimits, warnings: string[]): Promise<void> {
    const now = this.#env.now();
    let responder = o.ocsp.responderUri ? o.ocsp.responderCertificate : undefined;
    if (responder && (responder.notBefore > now || responder.notAfter < now)) {
      warnings.push(`Ignoring invalid certificate: the configured OCSP responder certificate '${subjectOf(responder)}' is outside its validity period`);
      responder = undefined;
    }
    let single: SingleResponse;
    try {
      let urls: URL[];
      try {
        urls = o.ocsp.responderUri ? [o.ocsp.responderUri] : cert.ocspUrls.flatMap((u) => {
          try {
            const url = new URL(u);
            return url.protocol === "http:" || url.protocol === "https:" ? [url] : [];
          } catch {
            return [];
          }
        });
      } catch (e) {
        if (e instanceof CertificateParseError) throw new OcspError("No OCSP Responder URI in certificate", e.message);
        throw e;
      }
      if (urls.length === 0) throw new OcspError("No OCSP Responder URI in certificate");
      // The issuer's key and the serial identify the certificate; the CertID's hashes are computed only to ask.
      const key = `${o.ocsp.sha256CertId ? "sha256" : "sha1"}:${issuer.spkiSha256}:${cert.serialHex}:${derKey(cert.issuer)}`;
      single = this.#env.ocspCache.get(key, now) ?? (await this.#env.ocspCache.ask(key, this.#env.now, () => this.#ask(urls, certId(cert, issuer, o.ocsp.sha256CertId), issuer, responder, limits)));
    } catch (e) {
      if (!(e instanceof OcspError || e instanceof FetchError)) throw e;
      const message = e instanceof OcspError ? e.message : "OCSP check failed";
      const detail = e instanceof OcspError ? e.detail : e.message;
      if (o.ocsp.failOpen) {
        warnings.push(`OCSP fail-open: ${detail}`);
        return;
      }
      throw new ValidationError("OCSP_UNAVAILABLE", message, detail, e instanceof RememberedFailure);
    }
    if (single.status === "revoked") {
      const reason = CRL_REASONS[single.reason ?? 0] ?? "UNSPECIFIED";
      throw new ValidationError("CERT_REVOKED", `Certificate's been revoked.\n${reason}\nRevoked on: ${javaDate(single.revocationTime ?? 0)}`, `OCSP: serial ${cert.serialHex} of '${subjectOf(cert)}' is revoked`);
    }
    if (single.status === "unknown") {
      const message = "Unable to determine certificate's revocation status.";
      if (o.ocsp.failOpen) {
        warnings.push(`OCSP fail-open: ${message}`);
        return;
      }
      throw new ValidationError("OCSP_UNKNOWN", message, `the OCSP responder does not know serial ${cert.serialHex} of '${subjectOf(cert)}'`);
    }
  }

  /**
   * Asks each URL in turn until one gives an answer x509-idp believes. A responder remembered as down is skipped;
   * when every one is, the failure thrown is a RememberedFailure.
   */
  async #ask(urls: readonly URL[], id: ReturnType<typeof certId>, issuer: Certificate, responder: Certificate | undefined, limits: FetchLimits): Promise<SingleResponse> {
    let last: Error = new OcspError("No OCSP Responder URI in certificate");
    let remembered: RememberedFailure | undefined;
    let asked = 0;
    const cache = this.#env.ocspCache;
    for (const url of urls) {
      const down = cache.down(url.href, this.#env.now());
      if (down) {
        remembered = down;
        continue;
      }
      asked++;
      try {
        const refused = limits.refuse(url);
        if (refused) throw new FetchError("NOT_ALLOWED", refused);
        const nonce = newNonce();
        const body = await this.#env.http.post(url, ocspRequest(id, nonce), { "content-type": "application/ocsp-request", accept: "application/ocsp-response" }, limits);
        const { status, basic } = parseOcspResponse(body);
        if (status !== 0 || !basic) throw new OcspError(`${STATUS_MESSAGES[status] ?? "OCSP request is malformed."} OCSP response error: ${status}`, `${url.href} answered with OCSP status ${status}`);
        return verifyBasicResponse(basic, id, { issuer, responder, nonce, now: this.#env.now() });
      } catch (e) {
        if (e instanceof FetchError) {
          last = new FetchError(e.code, `Connection error, unable to obtain certificate revocation status using OCSP responder "${url.href}": ${e.message}`, { cause: e });
          if (e.code !== "NOT_ALLOWED") cache.markDown(url.href, last, this.#env.now());
        } else if (e instanceof OcspError) last = new OcspError(e.message, `${url.href}: ${e.detail}`);
        else throw e;
      }
    }
    throw asked === 0 && remembered ? remembered : last;
  }
}
