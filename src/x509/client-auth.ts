// Which certificate authenticates an OAuth client (RFC 8705 §2.1 tls_client_auth, and Keycloak's client-x509): the
// client's attributes, parsed once when saved, and the comparisons with a certificate whose path the realm's trust
// anchors already verified (validation/validate.ts). Exactly one subject rule per client; optionally, the CAs the
// client's certificate must come through (by subject DN, Keycloak's x509.casubjectdn, or by SHA-256 fingerprint).
import type { Certificate } from "./certificate.ts";
import { DnSyntaxError, nameMatches, parseWrittenDn, type DnComparison, type WrittenDn } from "./dn-match.ts";
import { X509ConfigError } from "./errors.ts";
import { splitDelimited } from "./options.ts";
import { Pattern } from "./regex/pattern.ts";
import { parseFingerprints, pathCas } from "./validation/options.ts";

/** The client attributes read here (Keycloak's names where Keycloak has one, RFC 8705's metadata names otherwise). */
export const CLIENT_CERT_KEYS = {
  /** Keycloak: the subject DN, or a Java regular expression matched against the legacy rendering. */
  subjectDn: "x509.subjectdn",
  /** Keycloak: "true" (also when absent, as Keycloak reads it) = x509.subjectdn is a regex; "false" = a DN. */
  allowRegex: "x509.allow.regex.pattern.comparison",
  /** Keycloak 26.7+: DN(s) of a CA the certificate must come through, "##"-separated. */
  caSubjectDn: "x509.casubjectdn",
  /** x509-idp: SHA-256 fingerprint(s) of a CA the certificate must come through (hex, ":" allowed, "##"-separated). */
  issuerSha256: "x509.issuer.sha256",
  rfcSubjectDn: "tls_client_auth_subject_dn",
  sanDns: "tls_client_auth_san_dns",
  sanUri: "tls_client_auth_san_uri",
  sanIp: "tls_client_auth_san_ip",
  sanEmail: "tls_client_auth_san_email",
} as const;

/** Keys that name the certificate's subject: a tls_client_auth client has exactly one. */
export const SUBJECT_KEYS = [CLIENT_CERT_KEYS.subjectDn, CLIENT_CERT_KEYS.rfcSubjectDn, CLIENT_CERT_KEYS.sanDns, CLIENT_CERT_KEYS.sanUri, CLIENT_CERT_KEYS.sanIp, CLIENT_CERT_KEYS.sanEmail] as const;

export type SubjectRule =
  | { kind: "regex"; pattern: Pattern }
  | { kind: "dn"; dn: WrittenDn; how: DnComparison }
  | { kind: "dns" | "uri" | "email"; value: string }
  | { kind: "ip"; value: string };

export interface ClientCertificateRule {
  subject: SubjectRule;
  /** The oidc-provider metadata property the rule stands for (x509.subjectdn maps to tls_client_auth_subject_dn). */
  property: "tls_client_auth_subject_dn" | "tls_client_auth_san_dns" | "tls_client_auth_san_uri" | "tls_client_auth_san_ip" | "tls_client_auth_san_email";
  caSubjects: WrittenDn[];
  issuerPins: string[];
}

/** What a client's subject rule compares, for messages (never the expected value itself). */
export const SUBJECT_LABEL: Record<SubjectRule["kind"], string> = {
  regex: "subject DN", dn: "subject DN", dns: "DNS name", uri: "URI", ip: "IP address", email: "e-mail address",
};

const MAX_VALUE = 4096;
const list = (v: string | undefined) => splitDelimited(v ?? "").map((s) => s.trim()).filter((s) => s !== "");

function dn(key: string, value: string): WrittenDn {
  try {
    return parseWrittenDn(value);
  } catch (e) {
    if (e instanceof DnSyntaxError) throw new X509ConfigError(key, `not a distinguished name: ${e.message}`);
    throw e;
  }
}

/** Parses a client's certificate attributes; throws X509ConfigError naming the attribute. */
export function parseClientCertificateRule(attributes: Readonly<Record<string, string | undefined>>): ClientCertificateRule {
  const K = CLIENT_CERT_KEYS;
  const given = SUBJECT_KEYS.filter((k) => (attributes[k] ?? "").trim() !== "");
  if (given.length === 0) throw new X509ConfigError(`attributes.${K.subjectDn}`, `a tls_client_auth client needs exactly one of ${SUBJECT_KEYS.join(", ")}`);
  if (given.length > 1) throw new X509ConfigError(`attributes.${given[1]}`, `give only one of ${given.join(", ")}`);
  const key = given[0] as (typeof SUBJECT_KEYS)[number];
  const value = (attributes[key] as string).trim();
  if (value.length > MAX_VALUE) throw new X509ConfigError(`attributes.${key}`, `longer than ${MAX_VALUE} characters`);
  let subject: SubjectRule;
  switch (key) {
    case K.subjectDn: {
      const regex = attributes[K.allowRegex];
      if (regex !== undefined && regex !== "true" && regex !== "false") throw new X509ConfigError(`attributes.${K.allowRegex}`, `"true" or "false"`);
      if (regex === "false") subject = { kind: "dn", dn: dn(`attributes.${key}`, value), how: "exact" };
      else {
        // Keycloak compiles it without flags: case-sensitive, unless the pattern starts with (?i).
        const insensitive = value.startsWith("(?i)");
        const body = insensitive ? value.slice(4) : value;
        if (body.includes("(?i)")) throw new X509ConfigError(`attributes.${key}`, "(?i) is supported only at the start of the pattern");
        try {
          // Java's Matcher.matches(): the whole rendering, from its first character to its last.
          subject = { kind: "regex", pattern: new Pattern(`\\A(?:${body})\\z`, { caseSensitive: !insensitive }) };
        } catch (e) {
          throw new X509ConfigError(`attributes.${key}`, `not a usable regular expression: ${(e as Error).message}`);
        }
      }
      break;
    }
    case K.rfcSubjectDn:
      subject = { kind: "dn", dn: dn(`attributes.${key}`, value), how: "match" };
      break;
    case K.sanIp: {
      const ip = canonicalIp(value);
      if (ip === undefined) throw new X509ConfigError(`attributes.${key}`, "not an IPv4 or IPv6 address");
      subject = { kind: "ip", value: ip };
      break;
    }
    case K.sanDns:
      subject = { kind: "dns", value: value.toLowerCase() };
      break;
    case K.sanUri:
      if (!URL.canParse(value)) throw new X509ConfigError(`attributes.${key}`, "not a URI");
      subject = { kind: "uri", value };
      break;
    case K.sanEmail:
      if (!/^[^@\s]+@[^@\s]+$/.test(value)) throw new X509ConfigError(`attributes.${key}`, "not an e-mail address");
      subject = { kind: "email", value };
      break;
  }
  const pins = parseFingerprints(attributes[K.issuerSha256] ?? "");
  if (!Array.isArray(pins)) throw new X509ConfigError(`attributes.${K.issuerSha256}`, `"${pins.bad}" is not a SHA-256 fingerprint (64 hex digits, colons allowed)`);
  return {
    subject,
    property: key === K.subjectDn ? "tls_client_auth_subject_dn" : key,
    caSubjects: list(attributes[K.caSubjectDn]).map((d) => dn(`attributes.${K.caSubjectDn}`, d)),
    issuerPins: pins,
  };
}

/** An IP address in one spelling per address (IPv6 compressed as URL does), or undefined. */
export function canonicalIp(text: string): string | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? parts.join(".") : undefined;
  }
  if (!text.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  try {
    return new URL(`http://[${text}]/`).hostname;
  } catch {
    return undefined;
  }
}

const emailEquals = (a: string, b: string) => {
  const at = a.lastIndexOf("@");
  const bt = b.lastIndexOf("@");
  return at > 0 && at === bt && a.slice(0, at) === b.slice(0, bt) && a.slice(at).toLowerCase() === b.slice(bt).toLowerCase();
};

/** Whether the client's certificate (the leaf only, as Keycloak since 2025) matches the subject rule. */
export function subjectMatches(leaf: Certificate, rule: SubjectRule): boolean {
  switch (rule.kind) {
    case "regex": {
      const legacy = leaf.dn("subject", "legacy");
      return rule.pattern.fits(legacy) && rule.pattern.find(legacy) !== undefined;
    }
    case "dn":
      return nameMatches(leaf.subject, rule.dn, rule.how);
    case "dns":
      return leaf.subjectAltNames.some((n) => n.type === "dns" && n.value.toLowerCase() === rule.value);
    case "uri":
      return leaf.subjectAltNames.some((n) => n.type === "uri" && n.value === rule.value);
    case "email":
      return leaf.subjectAltNames.some((n) => n.type === "email" && emailEquals(n.value, rule.value));
    case "ip":
      return leaf.subjectAltNames.some((n) => n.type === "ip" && canonicalIp(n.value) === rule.value);
  }
}

/** Whether the verified path (leaf first) comes through a CA the client accepts; true when it names none. */
export function issuerAllowed(path: readonly Certificate[], rule: ClientCertificateRule): boolean {
  const cas = pathCas(path);
  if (rule.issuerPins.length > 0 && !cas.some((c) => rule.issuerPins.includes(c.sha256))) return false;
  if (rule.caSubjects.length > 0 && !cas.some((c) => rule.caSubjects.some((d) => nameMatches(c.subject, d, "match")))) return false;
  return true;
}
