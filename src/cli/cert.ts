// `x509-idp cert inspect [--json] <file>...`, `x509-idp cert identity <file> --source … [--regex …]` and
// `x509-idp cert verify <file> --trust <anchors.pem> [--options <config.json>]`: what a certificate looks like to
// x509-idp (and so to Keycloak configurations), and whether a realm set up that way would accept it. No server or
// database is needed; verify fetches CRLs and OCSP answers as the server would.
import fs from "node:fs";
import type { RevocationSettings } from "../config/env.ts";
import { createRevocationChecker } from "../net/revocation.ts";
import {
  CertificateParseError, EKU_NAMES, extractIdentity, KEYS, parseCertificates, parseIdentityOptions, parseValidationOptions, TrustStore, validateChain,
  X509ConfigError, type Certificate,
} from "../x509/index.ts";

/** Reads a fact, turning a malformed extension into null and a note (the other facts still print). */
const READ_ERRORS: Record<string, string> = { ENOENT: "no such file", EACCES: "permission denied", EISDIR: "it is a folder" };

function safe<T>(errors: string[], read: () => T): T | null {
  try {
    return read();
  } catch (e) {
    if (e instanceof CertificateParseError) {
      errors.push(e.message);
      return null;
    }
    throw e;
  }
}

export function describeCertificate(file: string, c: Certificate, chainLength: number): Record<string, unknown> {
  const errors: string[] = [];
  const san = safe(errors, () => c.subjectAltNames) ?? [];
  const names = (type: "dns" | "uri" | "ip") => san.flatMap((n) => (n.type === type ? [n.value] : []));
  const eku = safe(errors, () => c.extendedKeyUsage);
  return {
    file,
    subjectDN: c.subjectDn,
    issuerDN: c.issuerDn,
    serial: { decimal: c.serialDecimal, hex: c.serialHex },
    sha256: c.sha256,
    pem: c.base64,
    // The values Keycloak's "Subject's e-mail" and "Subject's Common Name" sources take: the most specific one.
    subjectEmail: c.subjectEmails.at(-1) ?? null,
    subjectCN: c.subjectCommonNames.at(-1) ?? null,
    sanEmails: safe(errors, () => c.sanEmails) ?? [],
    sanUPN: safe(errors, () => c.sanUpns[0] ?? null),
    sanXmppAddrs: safe(errors, () => c.sanXmppAddrs) ?? [],
    sanDnsNames: names("dns"),
    sanUris: names("uri"),
    sanIpAddresses: names("ip"),
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    keyUsage: safe(errors, () => c.keyUsage ?? []),
    extendedKeyUsage: eku ?? [],
    extendedKeyUsageNames: (eku ?? []).map((o) => EKU_NAMES[o] ?? o),
    policies: safe(errors, () => c.policies ?? []),
    crlDistributionPoints: safe(errors, () => c.crlUrls) ?? [],
    ocspUrls: safe(errors, () => c.ocspUrls) ?? [],
    caIssuersUrls: safe(errors, () => c.caIssuersUrls) ?? [],
    basicConstraints: safe(errors, () => c.basicConstraints ?? null),
    subjectKeyId: safe(errors, () => c.subjectKeyId ?? null),
    authorityKeyId: safe(errors, () => c.authorityKeyId ?? null),
    spkiSha256: c.spkiSha256,
    publicKey: safe(errors, () => c.publicKey),
    version: c.version,
    signatureAlgorithm: c.signatureAlgorithm,
    ...(chainLength > 1 && { chainLength }),
    ...(errors.length && { errors }),
  };
}

function summary(d: Record<string, unknown>): string {
  const dnLines = (label: string, r: { legacy: string; canonical: string; rfc2253: string }) => [
    `  ${label}: ${r.legacy}`, `    canonical: ${r.canonical}`, `    RFC 2253:  ${r.rfc2253}`,
  ];
  const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(", ") : "–");
  const serial = d.serial as { decimal: string; hex: string };
  const key = d.publicKey as { algorithm: string; curve?: string; bits?: number } | null;
  return [
    `${d.file}${d.chainLength ? ` (leaf of ${d.chainLength} certificates)` : ""}`,
    ...dnLines("Subject", d.subjectDN as never),
    ...dnLines("Issuer ", d.issuerDN as never),
    `  Serial:    ${serial.decimal} (hex ${serial.hex})`,
    `  SHA-256:   ${d.sha256}`,
    `  Valid:     ${d.notBefore} to ${d.notAfter}`,
    `  Key:       ${key ? [key.algorithm, key.curve ?? (key.bits ? `${key.bits} bits` : "")].join(" ").trim() : "?"}`,
    `  Subject e-mail: ${d.subjectEmail ?? "–"}   CN: ${d.subjectCN ?? "–"}`,
    `  SAN e-mail: ${list(d.sanEmails)}   UPN: ${d.sanUPN ?? "–"}   xmppAddr: ${list(d.sanXmppAddrs)}`,
    `  Key usage: ${list(d.keyUsage)}`,
    `  Extended key usage: ${list(d.extendedKeyUsageNames)}`,
    `  Policies: ${list(d.policies)}`,
    `  CRL distribution points: ${list(d.crlDistributionPoints)}`,
    `  OCSP: ${list(d.ocspUrls)}`,
    ...(Array.isArray(d.errors) ? d.errors.map((e) => `  ! ${e}`) : []),
  ].join("\n");
}

function readInput(file: string): string | Uint8Array {
  const bytes = fs.readFileSync(file);
  return bytes[0] === 0x30 ? new Uint8Array(bytes) : bytes.toString("latin1");
}

function load(file: string): Certificate[] {
  try {
    return parseCertificates(readInput(file));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = READ_ERRORS[err.code ?? ""];
    if (why) throw new CertificateParseError("EMPTY", `cannot read ${file}: ${why}`);
    throw e;
  }
}

export function certInspect(files: string[], o: { json?: boolean }): { output: string; failed: boolean } {
  let failed = false;
  const out = files.map((file) => {
    try {
      const chain = load(file);
      const d = describeCertificate(file, chain[0] as Certificate, chain.length);
      return o.json ? JSON.stringify(d) : summary(d);
    } catch (e) {
      if (!(e instanceof CertificateParseError)) throw e;
      failed = true;
      return o.json ? JSON.stringify({ file, error: e.message }) : `${file}: error: ${e.message}`;
    }
  });
  return { output: out.join(o.json ? "\n" : "\n\n"), failed };
}

export interface IdentityCliOptions {
  source: string;
  regex?: string;
  canonicalDn?: boolean;
  serialHex?: boolean;
}

/** Throws X509ConfigError for a bad source or expression (a usage mistake); reports certificate problems as a reason. */
export function certIdentity(file: string, o: IdentityCliOptions): { output: string; ok: boolean } {
  let options;
  try {
    options = parseIdentityOptions({
      [KEYS.source]: o.source,
      ...(o.regex !== undefined && { [KEYS.regex]: o.regex }),
      [KEYS.canonicalDn]: String(o.canonicalDn === true),
      [KEYS.serialHex]: String(o.serialHex === true),
    });
  } catch (e) {
    // Name the command-line option rather than the configuration key.
    if (e instanceof X509ConfigError) throw new X509ConfigError(e.key === KEYS.regex ? "--regex" : "--source", e.message.slice(e.key.length + 2));
    throw e;
  }
  let cert: Certificate;
  try {
    cert = load(file)[0] as Certificate;
  } catch (e) {
    if (!(e instanceof CertificateParseError)) throw e;
    return { output: JSON.stringify({ identity: null, reason: e.message }), ok: false };
  }
  const r = extractIdentity(cert, options);
  if (!r.ok) return { output: JSON.stringify({ identity: null, reason: r.message }), ok: false };
  return { output: JSON.stringify({ identity: r.identity, ...(r.candidates.length > 1 && { candidates: r.candidates }) }), ok: true };
}

export interface VerifyCliOptions {
  trust: string[];
  options?: string;
  at?: string;
  crlDir?: string;
}

/** Reads an authenticator configuration file: a plain key/value object, or Keycloak's {"alias", "config": {...}}. */
function readConfig(file: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    const why = READ_ERRORS[(e as NodeJS.ErrnoException).code ?? ""] ?? (e as Error).message;
    throw new X509ConfigError("--options", `cannot read ${file}: ${why}`);
  }
  const inner = json && typeof json === "object" && "config" in json ? (json as { config: unknown }).config : json;
  if (!inner || typeof inner !== "object" || Array.isArray(inner) || Object.values(inner).some((v) => typeof v !== "string")) {
    throw new X509ConfigError("--options", `${file} must hold a JSON object of string values (an authenticator config, or Keycloak's {"alias", "config"})`);
  }
  return inner as Record<string, string>;
}

/**
 * Runs the whole validation pipeline on the chain in `file` against the anchors in the --trust files. Usage mistakes
 * (unreadable trust or options, bad values) throw X509ConfigError; the certificate's fate is the output.
 */
export async function certVerify(file: string, o: VerifyCliOptions, revocation: RevocationSettings): Promise<{ output: string; ok: boolean }> {
  const trust = TrustStore.fromPem(o.trust.map((f) => {
    try {
      return fs.readFileSync(f, "latin1");
    } catch (e) {
      throw new X509ConfigError("--trust", `cannot read ${f}: ${READ_ERRORS[(e as NodeJS.ErrnoException).code ?? ""] ?? (e as Error).message}`);
    }
  }), "--trust");
  const options = parseValidationOptions(o.options ? readConfig(o.options) : {});
  let now = Date.now();
  if (o.at !== undefined) {
    now = Date.parse(o.at);
    if (Number.isNaN(now)) throw new X509ConfigError("--at", `"${o.at}" is not a date and time (e.g. 2027-01-31T12:00:00Z)`);
  }
  let chain: Certificate[];
  try {
    chain = load(file);
  } catch (e) {
    if (!(e instanceof CertificateParseError)) throw e;
    return { output: JSON.stringify({ valid: false, error: e.message }), ok: false };
  }
  const checker = createRevocationChecker({ ...revocation, ...(o.crlDir !== undefined && { crlDir: o.crlDir }) }, () => now);
  const r = await validateChain(chain, options, { trust, revocation: checker, now });
  const path = r.ok ? r.path.map((c) => c.dn("subject", "legacy")) : undefined;
  return {
    output: JSON.stringify(r.ok ? { valid: true, path, warnings: r.warnings } : { valid: false, code: r.code, message: r.message, detail: r.detail, warnings: r.warnings }),
    ok: r.ok,
  };
}
