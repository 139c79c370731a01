// The validation part of an X.509 authenticator configuration: Keycloak's keys and value strings (keycloak-x509.md
// §2), plus x509-idp's own under "x509-idp.". Parsed once, when the configuration is saved; a bad value is refused
// with an X509ConfigError naming the key. Where x509-idp's default differs from Keycloak's it says so below (and the
// README's table does too).
import { z } from "zod";
import type { Certificate } from "../certificate.ts";
import { X509ConfigError } from "../errors.ts";
import { EKU, KEY_USAGE_BITS, type KeyUsageName } from "../oids.ts";
import { splitDelimited, type ConfigMap } from "../options.ts";
import { parseCertificate } from "../parse.ts";

export const VALIDATION_KEYS = {
  timestampValidation: "x509-cert-auth.timestamp-validation-enabled",
  crlEnabled: "x509-cert-auth.crl-checking-enabled",
  crlDistributionPoints: "x509-cert-auth.crldp-checking-enabled",
  crlPaths: "x509-cert-auth.crl-relative-path",
  /** Keycloak writes this one with a hyphen after "x509-cert-auth", not a dot. */
  crlAbortIfStale: "x509-cert-auth-crl-abort-if-non-updated",
  ocspEnabled: "x509-cert-auth.ocsp-checking-enabled",
  ocspFailOpen: "x509-cert-auth.ocsp-fail-open",
  ocspResponderUri: "x509-cert-auth.ocsp-responder-uri",
  ocspResponderCertificate: "x509-cert-auth.ocsp-responder-certificate",
  keyUsage: "x509-cert-auth.keyusage",
  extendedKeyUsage: "x509-cert-auth.extendedkeyusage",
  certificatePolicy: "x509-cert-auth.certificate-policy",
  certificatePolicyMode: "x509-cert-auth.certificate-policy-mode",
  revalidate: "x509-cert-auth.revalidate-certificate-enabled",
  // x509-idp's own.
  legacyCriticalBehavior: "x509-idp.legacy-critical-behavior",
  caPins: "x509-idp.ca-pin-sha256",
  checkIntermediates: "x509-idp.revocation-check-intermediates",
  ocspSha256CertId: "x509-idp.ocsp-sha256-cert-id",
  fetchAllowedHosts: "x509-idp.fetch-allowed-hosts",
  allowCaCertificate: "x509-idp.allow-ca-certificate",
} as const;

export type PolicyMode = "all" | "any";

/** A CRL location from the configured list: a URL (http, https, ldap, ldaps) or a file inside the CRL folder. */
export type CrlLocation = { kind: "url"; url: URL; text: string } | { kind: "file"; path: string; text: string };

export interface ValidationOptions {
  /** Check notBefore/notAfter of every certificate the client presented (the path's are always checked). */
  timestampValidation: boolean;
  crl: {
    enabled: boolean;
    /** Take the CRLs from each certificate's CRL distribution points instead of `locations`. */
    distributionPoints: boolean;
    locations: CrlLocation[];
    /** Fail when a CRL is past its nextUpdate (x509-idp's default: true; Keycloak's model default: false). */
    abortIfStale: boolean;
  };
  ocsp: {
    enabled: boolean;
    failOpen: boolean;
    /** Overrides the certificates' AIA OCSP URLs. */
    responderUri: URL | undefined;
    /** Trusted to sign responses (used only with responderUri, as in Keycloak). */
    responderCertificate: Certificate | undefined;
    sha256CertId: boolean;
  };
  /** Key usage bits that must be set (none: no check). */
  keyUsage: KeyUsageName[];
  /** Extended key usages as configured (names or OIDs), with their OIDs. */
  extendedKeyUsage: { text: string; oid: string }[];
  certificatePolicies: string[];
  certificatePolicyMode: PolicyMode;
  /** Keycloak's old rule: key usage and EKU mismatches fail only when the extension is critical. */
  legacyCriticalBehavior: boolean;
  /** SHA-256 fingerprints (lower-case hex) of which one must be a CA certificate of the validated path. */
  caPins: string[];
  /** Check the revocation of intermediate CAs too, not only of the client's certificate. */
  checkIntermediates: boolean;
  /** Hosts CRL and OCSP fetches may go to ("*.example.org" matches subdomains); empty: any host. */
  fetchAllowedHosts: string[];
  /** Accept a CA certificate (basicConstraints cA) as the client's certificate (default: refused, RFC 5280 §4.2.1.9). */
  allowCaCertificate: boolean;
}

const DOTTED_OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const EKU_BY_LOWER_NAME = new Map(Object.entries(EKU).map(([name, oid]) => [name.toLowerCase(), oid]));

/**
 * SHA-256 fingerprints of CA certificates, "##"-separated, hex with or without colons, any case: lower-case hex
 * without colons, or the first part that is not one.
 */
export function parseFingerprints(value: string): string[] | { bad: string } {
  const out: string[] = [];
  for (const part of splitDelimited(value)) {
    const written = part.trim();
    if (written === "") continue;
    const hex = written.replace(/:/g, "").toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex)) return { bad: written };
    out.push(hex);
  }
  return out;
}

/** The CAs of a verified path (leaf first) that a pin may name: all but the leaf, or the one certificate of a path that is its own anchor. */
export const pathCas = (path: readonly Certificate[]): readonly Certificate[] => (path.length > 1 ? path.slice(1) : path);

/** A Keycloak boolean: "true" or "false" (any case, blank is the default); anything else is refused. */
const bool = (fallback: boolean) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return fallback;
    const t = v.trim().toLowerCase();
    if (t === "true" || t === "false") return t === "true";
    ctx.addIssue({ code: "custom", message: `expected "true" or "false", got "${v}"` });
    return z.NEVER;
  });

/** Keycloak splits EKU and policy lists on "," ";" or ":". */
const splitList = (v: string | undefined): string[] => (v ?? "").split(/[,;:]/).map((s) => s.trim()).filter((s) => s !== "");

function crlLocation(text: string): CrlLocation | string {
  const t = text.trim();
  if (/^(https?|ldaps?):/i.test(t)) {
    try {
      return { kind: "url", url: new URL(t), text: t };
    } catch {
      return `"${t}" is not a valid URL`;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) return `"${t}": only http, https, ldap and ldaps URLs or file names are accepted`;
  if (t.startsWith("/") || /^[a-z]:[\\/]/i.test(t) || t.startsWith("\\")) return `"${t}": a CRL file is named relative to the CRL folder (IDP_CRL_DIR)`;
  if (t.split(/[\\/]/).includes("..")) return `"${t}": ".." is not allowed in a CRL file name`;
  return { kind: "file", path: t, text: t };
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$|^\[[0-9a-f:.]+\](:[0-9]{1,5})?$/i;

const K = VALIDATION_KEYS;
const schema = z.object({
  [K.timestampValidation]: bool(false),
  [K.crlEnabled]: bool(false),
  [K.crlDistributionPoints]: bool(false),
  [K.crlPaths]: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return [];
    const out: CrlLocation[] = [];
    for (const part of splitDelimited(v)) {
      if (part.trim() === "") continue;
      const loc = crlLocation(part);
      if (typeof loc === "string") {
        ctx.addIssue({ code: "custom", message: loc });
        return z.NEVER;
      }
      out.push(loc);
    }
    return out;
  }),
  [K.crlAbortIfStale]: bool(true),
  [K.ocspEnabled]: bool(false),
  [K.ocspFailOpen]: bool(false),
  [K.ocspResponderUri]: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    try {
      const url = new URL(v.trim());
      if (url.protocol === "http:" || url.protocol === "https:") return url;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: "custom", message: `"${v}" is not an http or https URL` });
    return z.NEVER;
  }),
  [K.ocspResponderCertificate]: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    try {
      return parseCertificate(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: `not a certificate (PEM, with or without BEGIN/END lines): ${(e as Error).message}` });
      return z.NEVER;
    }
  }),
  [K.keyUsage]: z.string().optional().transform((v, ctx) => {
    const out: KeyUsageName[] = [];
    for (const name of (v ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")) {
      const bit = KEY_USAGE_BITS.find((b) => b.toLowerCase() === name.toLowerCase());
      if (!bit) {
        ctx.addIssue({ code: "custom", message: `unknown key usage "${name}" (known: ${KEY_USAGE_BITS.join(", ")})` });
        return z.NEVER;
      }
      if (!out.includes(bit)) out.push(bit);
    }
    return out;
  }),
  [K.extendedKeyUsage]: z.string().optional().transform((v, ctx) => {
    const out: { text: string; oid: string }[] = [];
    for (const text of splitList(v)) {
      const oid = DOTTED_OID.test(text) ? text : EKU_BY_LOWER_NAME.get(text.toLowerCase());
      if (!oid) {
        ctx.addIssue({ code: "custom", message: `"${text}" is neither an OID nor a known extended key usage (${Object.keys(EKU).join(", ")})` });
        return z.NEVER;
      }
      out.push({ text, oid });
    }
    return out;
  }),
  [K.certificatePolicy]: z.string().optional().transform((v, ctx) => {
    const out = splitList(v);
    const bad = out.find((p) => !DOTTED_OID.test(p));
    if (bad !== undefined) {
      ctx.addIssue({ code: "custom", message: `"${bad}" is not an OID` });
      return z.NEVER;
    }
    return out;
  }),
  [K.certificatePolicyMode]: z.string().optional().transform((v, ctx) => {
    const t = (v ?? "").trim().toLowerCase();
    if (t === "" || t === "all") return "all" as PolicyMode;
    if (t === "any") return "any" as PolicyMode;
    ctx.addIssue({ code: "custom", message: `expected "All" or "Any", got "${v}"` });
    return z.NEVER;
  }),
  [K.revalidate]: bool(false),
  [K.legacyCriticalBehavior]: bool(false),
  [K.allowCaCertificate]: bool(false),
  [K.caPins]: z.string().optional().transform((v, ctx) => {
    const pins = parseFingerprints(v ?? "");
    if (Array.isArray(pins)) return pins;
    ctx.addIssue({ code: "custom", message: `"${pins.bad}" is not a SHA-256 fingerprint (64 hex digits, colons allowed)` });
    return z.NEVER;
  }),
  [K.checkIntermediates]: bool(false),
  [K.ocspSha256CertId]: bool(false),
  [K.fetchAllowedHosts]: z.string().optional().transform((v, ctx) => {
    const out: string[] = [];
    for (const part of splitDelimited(v ?? "")) {
      const host = part.trim().toLowerCase();
      if (host === "") continue;
      if (!HOST_PATTERN.test(host)) {
        ctx.addIssue({ code: "custom", message: `"${part.trim()}" is not a host name, [IPv6] address or *.domain pattern` });
        return z.NEVER;
      }
      out.push(host);
    }
    return out;
  }),
});

/** Parses the validation part of an authenticator configuration; throws X509ConfigError naming the first bad key. */
export function parseValidationOptions(config: ConfigMap): ValidationOptions {
  const res = schema.safeParse(config);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new X509ConfigError(String(issue?.path[0] ?? "config"), issue?.message ?? "invalid value");
  }
  const c = res.data;
  const options: ValidationOptions = {
    timestampValidation: c[K.timestampValidation],
    crl: { enabled: c[K.crlEnabled], distributionPoints: c[K.crlDistributionPoints], locations: c[K.crlPaths], abortIfStale: c[K.crlAbortIfStale] },
    ocsp: {
      enabled: c[K.ocspEnabled],
      failOpen: c[K.ocspFailOpen],
      responderUri: c[K.ocspResponderUri],
      responderCertificate: c[K.ocspResponderCertificate],
      sha256CertId: c[K.ocspSha256CertId],
    },
    keyUsage: c[K.keyUsage],
    extendedKeyUsage: c[K.extendedKeyUsage],
    certificatePolicies: c[K.certificatePolicy],
    certificatePolicyMode: c[K.certificatePolicyMode],
    legacyCriticalBehavior: c[K.legacyCriticalBehavior],
    caPins: c[K.caPins],
    checkIntermediates: c[K.checkIntermediates],
    fetchAllowedHosts: c[K.fetchAllowedHosts],
    allowCaCertificate: c[K.allowCaCertificate],
  };
  if (options.crl.enabled && !options.crl.distributionPoints && options.crl.locations.length === 0) {
    throw new X509ConfigError(K.crlPaths, "CRL checking is on without distribution points, so at least one CRL location is needed");
  }
  return options;
}
