// Certificate login, the part both flows share (keycloak-x509.md §5): validate the chain against the realm's anchors,
// extract the identity, map it to a user, check that the user may log in. The flows (browser pages, direct-grant
// JSON) turn the outcome into their own answers; the core knows nothing of HTTP or storage: it is given a user
// directory, a lockout check and the revocation checker.
import type { Certificate } from "./certificate.ts";
import type { AuthenticatorConfig } from "./config.ts";
import { extractIdentity } from "./identity/extract.ts";
import { DirectoryUnavailableError, mapIdentityToUser, type DirectoryUser, type MappingResult, type UserDirectory } from "./identity/mapping.ts";
import type { RevocationChecker } from "./revocation/checker.ts";
import type { TrustStore } from "./trust/trust-store.ts";
import type { ValidationFailure, ValidationOutcome } from "./validation/outcome.ts";
import { validateChain } from "./validation/validate.ts";

export interface NewUserFromCertificate {
  username: string;
  email: string | undefined;
  firstName: string | undefined;
  /** For the Custom Attribute Mapper: the attributes the identity is matched against next time. */
  attributes: Record<string, string[]>;
}

export interface CertificateLoginDeps {
  directory: UserDirectory;
  /** Just-in-time provisioning: creates the user, or answers undefined when it cannot (the username is taken). */
  createUser?(user: NewUserFromCertificate): Promise<DirectoryUser | undefined>;
  revocation: RevocationChecker;
  now: number;
  /**
   * The outcome of validateChain for this very chain, trust store and config.validation, when the caller already
   * has it (the same request's client authentication validated it): not computed twice.
   */
  validated?: ValidationOutcome | undefined;
}

export type CertificateLoginFailure =
  /** Validation failed (the ValidationFailure says how). */
  | { ok: false; reason: "INVALID_CERTIFICATE"; validation: ValidationFailure; identity?: undefined; user?: undefined }
  | { ok: false; reason: "NO_IDENTITY"; detail: string; identity?: undefined; user?: undefined }
  /** Several identities (xmppAddrs) and no valid choice among them. */
  | { ok: false; reason: "IDENTITY_NOT_CHOSEN"; detail: string; candidates: string[]; identity?: undefined; user?: undefined }
  | { ok: false; reason: "USER_NOT_FOUND"; identity: string; user?: undefined }
  | { ok: false; reason: "DUPLICATE_USERS"; identity: string; count: number; user?: undefined }
  | { ok: false; reason: "USER_DISABLED"; identity: string; user: DirectoryUser }
  /** The user directory (LDAP) did not answer in time or refused the service account: nothing was decided. */
  | { ok: false; reason: "DIRECTORY_UNAVAILABLE"; identity: string; detail: string; user?: undefined };

export interface CertificateLoginSuccess {
  ok: true;
  identity: string;
  user: DirectoryUser;
  /** The verified path, leaf first. */
  path: Certificate[];
  warnings: string[];
  /** The user was created by this login (just-in-time provisioning). */
  created: boolean;
}

export type CertificateLoginOutcome = CertificateLoginSuccess | CertificateLoginFailure;

/**
 * The identity as events record it (`username`): the identity itself, except for the Full Certificate source, whose
 * identity is the whole certificate: there the certificate's SHA-256 stands for it (subject, issuer and serial are in
 * the event beside it).
 */
export function auditIdentity(identity: string, config: AuthenticatorConfig, leaf: Certificate): string {
  return config.identity.source === "certificate-pem" ? leaf.sha256 : identity;
}

/** What a failed attempt's event adds: that a revocation source was not asked because it failed moments ago. */
export function failureDetails(f: CertificateLoginFailure): Record<string, string> {
  return f.reason === "INVALID_CERTIFICATE" && f.validation.cachedFailure ? { revocation_failure_cached: "true" } : {};
}

/** What Keycloak records about the certificate on every attempt (event details). */
export function certificateAudit(cert: Certificate): Record<string, string> {
  return {
    x509_cert_serial_number: cert.serialDecimal,
    x509_cert_subject_distinguished_name: cert.dn("subject", "legacy"),
    x509_cert_issuer_distinguished_name: cert.dn("issuer", "legacy"),
  };
}

/**
 * The identity to use among those the source offers. For xmppAddr (XEP-0178): only addresses of the required domain
 * count; with several, the client must choose one (`hint`: login_hint or the direct grant's username); with one,
 * a hint must name it. Other sources: the first, and a hint is not consulted here.
 */
function chooseIdentity(candidates: string[], config: AuthenticatorConfig, hint: string | undefined): { identity: string } | { failure: CertificateLoginFailure } {
  if (config.identity.source !== "san-xmpp") return { identity: candidates[0] as string };
  const domain = config.xmppDomain;
  const usable = domain ? candidates.filter((c) => c.toLowerCase().endsWith(`@${domain}`)) : candidates;
  if (usable.length === 0) return { failure: { ok: false, reason: "NO_IDENTITY", detail: `the certificate has no XMPP address in ${domain}` } };
  const wanted = hint?.trim().toLowerCase();
  if (wanted) {
    const match = usable.find((c) => c.toLowerCase() === wanted);
    if (match) return { identity: match };
    return { failure: { ok: false, reason: "IDENTITY_NOT_CHOSEN", detail: `"${hint}" is not one of the certificate's XMPP addresses`, candidates: usable } };
  }
  if (usable.length > 1) return { failure: { ok: false, reason: "IDENTITY_NOT_CHOSEN", detail: "the certificate has several XMPP addresses: choose one", candidates: usable } };
  return { identity: usable[0] as string };
}

const USERNAME = /^[^\s]{1,255}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}$/;

/**
 * The user to create for an identity nobody has. Username or Email mapping: the username is the identity, so the
 * next login finds it. Custom Attribute Mapper: the attributes carry the identity; the username is the
 * certificate's e-mail address, else its common name, else its SHA-256. The e-mail comes from the SAN, else the
 * subject.
 */
function newUser(leaf: Certificate, identity: string, config: AuthenticatorConfig): NewUserFromCertificate | undefined {
  const email = [...leaf.sanEmails, ...leaf.subjectEmails.slice().reverse()].find((e) => EMAIL.test(e))?.toLowerCase();
  const cn = leaf.subjectCommonNames.at(-1);
  if (config.identity.mapper === "username-email") {
    const username = identity.trim().toLowerCase();
    return USERNAME.test(username) ? { username, email, firstName: cn, attributes: {} } : undefined;
  }
  const names = config.identity.attributeNames;
  const values = identity.split("##");
  if (names.length !== values.length) return undefined;
  const username = [email, cn?.replace(/\s+/g, "."), leaf.sha256].find((u): u is string => u !== undefined && USERNAME.test(u))?.toLowerCase() as string;
  return { username, email, firstName: cn, attributes: Object.fromEntries(names.map((n, i) => [n, [values[i] as string]])) };
}

export async function authenticateCertificate(
  chain: readonly Certificate[],
  config: AuthenticatorConfig,
  trust: TrustStore,
  deps: CertificateLoginDeps,
  hint?: string,
): Promise<CertificateLoginOutcome> {
  const validation = deps.validated ?? (await validateChain(chain, config.validation, { trust, revocation: deps.revocation, now: deps.now }));
  if (!validation.ok) return { ok: false, reason: "INVALID_CERTIFICATE", validation };
  const leaf = chain[0] as Certificate;
  const extracted = extractIdentity(leaf, config.identity);
  if (!extracted.ok) return { ok: false, reason: "NO_IDENTITY", detail: extracted.message };
  const chosen = chooseIdentity(extracted.candidates, config, hint);
  if ("failure" in chosen) return chosen.failure;
  const identity = chosen.identity;

  let created = false;
  let mapped: MappingResult;
  try {
    mapped = await mapIdentityToUser(identity, config.identity, deps.directory);
    if (mapped.kind === "not-found" && config.createUser && deps.createUser) {
      const spec = newUser(leaf, identity, config);
      const user = spec && (await deps.createUser(spec));
      if (user) {
        mapped = { kind: "found", user };
        created = true;
      }
    }
  } catch (e) {
    if (e instanceof DirectoryUnavailableError) return { ok: false, reason: "DIRECTORY_UNAVAILABLE", identity, detail: e.message };
    throw e;
  }
  if (mapped.kind === "not-found") return { ok: false, reason: "USER_NOT_FOUND", identity };
  if (mapped.kind === "duplicate") return { ok: false, reason: "DUPLICATE_USERS", identity, count: mapped.count };
  const user = mapped.user;
  if (!user.enabled) return { ok: false, reason: "USER_DISABLED", identity, user };
  return { ok: true, identity, user, path: validation.path, warnings: validation.warnings, created };
}
