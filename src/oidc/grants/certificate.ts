// The direct grant with a client certificate (keycloak-x509.md §5.2): grant_type=password, the client authenticated,
// the user's certificate on the TLS connection, no password. Keycloak's error contract, with RFC 6749's 400 for an
// unknown user, and descriptions that never name a file, a URL or a host. Tokens are bound to the certificate
// (RFC 8705 cnf.x5t#S256): userinfo and refresh need the same certificate again.
import type { KoaContextWithOIDC, Provider } from "oidc-provider";
import { SETTLE_TIMEOUT_MS, type EventCommitter } from "../../events/event-store.ts";
import type { Logger } from "../../log.ts";
import { recordIgnoredHeaders, type ClientCertificates } from "../../http/client-certificate.ts";
import type { Realm } from "../../realms/realm-store.ts";
import type { X509Settings } from "../../realms/x509-settings.ts";
import type { BruteForceGuard } from "../../users/brute-force.ts";
import { loginWithCertificate } from "../../users/certificate-login.ts";
import type { RealmUsers } from "../../users/federation.ts";
import type { IncomingMessage } from "node:http";
import { auditIdentity, certificateAudit, failureDetails, type Certificate, type CertificateLoginFailure, type RevocationChecker, type ValidationOptions, type ValidationOutcome } from "../../x509/index.ts";
import { collectWrites } from "../adapter.ts";
import { DIRECTORY_UNAVAILABLE, grantError, issueDirectGrantTokens, markLoginErrorRecorded } from "./password.ts";

export interface CertificateGrantDeps {
  realm: Realm;
  x509: X509Settings;
  directory: RealmUsers;
  guard: BruteForceGuard;
  events: EventCommitter;
  revocation: RevocationChecker;
  log: Logger;
  certificates: ClientCertificates;
  /** The chain's validation when this request's client authentication already ran it (oidc/certificate-clients.ts). */
  validated?: (req: IncomingMessage, options: ValidationOptions) => ValidationOutcome | undefined;
}

interface Answer {
  status: number;
  error: string;
  description: string;
  /** Event error (Keycloak's names). */
  event: string;
  reason: string;
}

const failed = (reason: string) => `X509 certificate authentication's failed. Reason: "${reason}"`;

function answer(f: CertificateLoginFailure): Answer {
  switch (f.reason) {
    case "INVALID_CERTIFICATE":
      return { status: 401, error: "invalid_request", description: f.validation.message, event: "invalid_user_credentials", reason: f.validation.code };
    case "NO_IDENTITY":
      return { status: 401, error: "invalid_request", description: "Unable to extract user identity from specified certificate", event: "invalid_user_credentials", reason: f.reason };
    case "IDENTITY_NOT_CHOSEN":
      return { status: 400, error: "invalid_request", description: failed(`${f.detail}; send it as username (one of: ${f.candidates.join(", ")})`), event: "invalid_user_credentials", reason: f.reason };
    case "DUPLICATE_USERS":
      return { status: 401, error: "invalid_request", description: failed(`${f.count} users match the certificate's identity`), event: "invalid_user_credentials", reason: f.reason };
    case "USER_NOT_FOUND":
      return { status: 400, error: "invalid_grant", description: "Invalid user credentials", event: "user_not_found", reason: f.reason };
    case "USER_DISABLED":
      return { status: 400, error: "invalid_grant", description: "Account disabled", event: "user_disabled", reason: f.reason };
    case "DIRECTORY_UNAVAILABLE":
      return { status: 503, error: "temporarily_unavailable", description: DIRECTORY_UNAVAILABLE, event: "directory_unavailable", reason: f.reason };
  }
}

/** Whether this password-grant request is a certificate login: the realm allows it and no password was sent. */
export function isCertificateGrant(x509: X509Settings, params: Record<string, string | undefined>): boolean {
  return x509.directGrant.enabled && !params.password;
}

export async function certificateGrant(provider: Provider, ctx: KoaContextWithOIDC, deps: CertificateGrantDeps): Promise<void> {
  const { realm, x509, events } = deps;
  const params = (ctx.oidc.params ?? {}) as Record<string, string | undefined>;
  const requested = params.username?.trim() || undefined;
  const base = { realmId: realm.id, clientId: ctx.oidc.client?.clientId, ipAddress: ctx.ip };
  const fail = (a: Answer, details: Record<string, string | undefined>, userId?: string): Error => {
    events.record({ ...base, type: "LOGIN_ERROR", userId, error: a.event, details: { grant_type: "password", auth_method: "x509", reason: a.reason, ...details } });
    markLoginErrorRecorded(ctx);
    return grantError(a.error, a.description, a.status);
  };

  const presented = deps.certificates.presented(ctx.req);
  recordIgnoredHeaders(events, presented, base);
  if (presented.kind === "invalid") {
    deps.log.warn({ realm: realm.name, lookup: presented.source, code: presented.code, detail: presented.message }, "the client certificate forwarded by the proxy cannot be read");
    throw fail({ status: 401, error: "invalid_request", description: "The client certificate forwarded by the proxy cannot be read.", event: "invalid_user_credentials", reason: "FORWARDED_CERTIFICATE_INVALID" }, { lookup_error: presented.code });
  }
  if (presented.kind === "none") {
    if (presented.note) deps.log.info({ realm: realm.name, lookup: presented.source, note: presented.note }, "client certificate not used");
    throw fail({ status: 401, error: "invalid_request", description: "X509 client certificate is missing.", event: "user_not_found", reason: "NO_CERTIFICATE" }, presented.note ? { note: presented.note } : {});
  }
  const chain = presented.chain;
  const leaf = chain[0] as Certificate;
  const audit = certificateAudit(leaf);
  if (!x509.directGrant.config) throw fail({ status: 401, error: "invalid_request", description: "Configuration is missing.", event: "user_not_found", reason: "NOT_CONFIGURED" }, audit);

  const onUserCreated = (u: { id: string; username: string }) =>
    events.record({ ...base, type: "REGISTER", userId: u.id, details: { grant_type: "password", auth_method: "x509", register_method: "x509", username: u.username, ...audit } });
  const config = x509.directGrant.config;
  const outcome = await loginWithCertificate({ ...deps, onUserCreated }, x509.directGrant, chain, requested, deps.validated?.(ctx.req, config.validation));
  const username = (identity: string) => auditIdentity(identity, config, leaf);
  if (!outcome.ok) {
    if (outcome.reason === "INVALID_CERTIFICATE") {
      deps.log.info({ realm: realm.name, code: outcome.validation.code, detail: outcome.validation.detail, serial: audit.x509_cert_serial_number }, "client certificate refused");
    }
    throw fail(answer(outcome), { ...audit, ...failureDetails(outcome), ...(outcome.identity !== undefined && { username: username(outcome.identity) }) }, outcome.user?.id);
  }
  // A username that names someone else than the certificate's user is refused (Keycloak answers 500 here).
  const user = outcome.record ?? (await deps.directory.store.findById(realm.id, outcome.user.id));
  if (!user) throw new Error("the user vanished during login");
  if (requested && ![user.username, user.email ?? "", outcome.identity.toLowerCase()].includes(requested.toLowerCase())) {
    throw fail({ status: 400, error: "invalid_grant", description: "Invalid user credentials", event: "invalid_user_credentials", reason: "USERNAME_MISMATCH" }, { ...audit, username: username(outcome.identity) }, user.id);
  }
  const cert = deps.certificates.x509(ctx.req);
  // The tokens and their LOGIN event: one transaction, answered once committed.
  const { result: { scope, body }, writes } = await collectWrites(() => issueDirectGrantTokens(provider, ctx, user, ["x509"], cert));
  await events.commit({
    ...base,
    type: "LOGIN",
    userId: user.id,
    details: {
      grant_type: "password", auth_method: "x509", username: username(outcome.identity), scope, ...audit,
      ...(outcome.created && { user_created: "true" }),
      ...(outcome.warnings.length > 0 && { warnings: outcome.warnings.join("; ") }),
    },
  }, writes, SETTLE_TIMEOUT_MS);
  ctx.body = body;
}
