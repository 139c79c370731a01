// Client authentication by certificate (RFC 8705 §2, Keycloak's client-x509) on oidc-provider's features.mTLS hooks.
// oidc-provider asks two synchronous questions (certificateAuthorized, certificateSubjectMatches) while it
// authenticates the client; the answer needs the chain validated against the realm's trust anchors with the realm's
// direct-grant validation options, revocation included, which is asynchronous. So the validation runs first, in a
// middleware, once per request that can authenticate a client and presents a certificate (only in realms that have
// certificate clients), and the hooks read its outcome. Failures are answered as 401 invalid_client with a
// description naming the reason's class (never the registered value), and recorded as CLIENT_LOGIN_ERROR with the
// certificate's serial, subject and issuer.
import type { IncomingMessage } from "node:http";
import type { Client, KoaContextWithOIDC } from "oidc-provider";
import type { ClientCertificates } from "../http/client-certificate.ts";
import type { EventRecorder } from "../events/event-store.ts";
import type { Logger } from "../log.ts";
import type { X509Settings } from "../realms/x509-settings.ts";
import {
  certificateAudit, issuerAllowed, parseClientCertificateRule, parseValidationOptions, subjectMatches, SUBJECT_LABEL, validateChain,
  type Certificate, type ClientCertificateRule, type RevocationChecker, type ValidationOptions, type ValidationOutcome,
} from "../x509/index.ts";
import { Lru } from "../x509/signature.ts";

/** Client metadata carrying a tls_client_auth client's attributes to the hooks (oidc/clients.ts sets it). */
export const CERTIFICATE_METADATA = "x509idp:certificate";

export type CertificateClientFailure = "NO_CERTIFICATE" | "INVALID_CERTIFICATE" | "ISSUER_NOT_ALLOWED" | "SUBJECT_MISMATCH" | "CERTIFICATE_NOT_REGISTERED" | "WRONG_METHOD";

interface Failure {
  reason: CertificateClientFailure;
  description: string;
  detail?: string;
}

/** oidc-provider's error_detail for each mTLS client-authentication failure. */
const PROVIDER_DETAIL: Record<string, CertificateClientFailure | undefined> = {
  "client certificate was not provided": "NO_CERTIFICATE",
  "client certificate was not verified": "INVALID_CERTIFICATE",
  "certificate subject value does not match the registered one": "SUBJECT_MISMATCH",
  "unregistered client certificate provided": "CERTIFICATE_NOT_REGISTERED",
  "the provided authentication mechanism does not match the registered client authentication method": "WRONG_METHOD",
};

const DESCRIPTION: Record<CertificateClientFailure, string> = {
  NO_CERTIFICATE: "Client certificate missing",
  INVALID_CERTIFICATE: "Client certificate not valid",
  ISSUER_NOT_ALLOWED: "Client certificate not issued by a CA this client accepts",
  SUBJECT_MISMATCH: "Client certificate does not match the client's registered subject",
  CERTIFICATE_NOT_REGISTERED: "Client certificate is not one registered for this client",
  WRONG_METHOD: "Client authenticates with a certificate, not with a secret",
};

export const isCertificateMethod = (client: Client | undefined) =>
  client?.clientAuthMethod === "tls_client_auth" || client?.clientAuthMethod === "self_signed_tls_client_auth";

export interface CertificateClientDeps {
  x509: X509Settings;
  revocation: RevocationChecker;
  certificates: ClientCertificates;
  events: EventRecorder;
  log: Logger;
  realm: { id: string; name: string };
}

export class CertificateClients {
  readonly #deps: CertificateClientDeps;
  readonly #validation: ValidationOptions;
  readonly #outcomes = new WeakMap<IncomingMessage, ValidationOutcome>();
  readonly #failures = new WeakMap<IncomingMessage, Failure>();
  readonly #rules = new Lru<string, ClientCertificateRule>(1000);

  constructor(deps: CertificateClientDeps) {
    this.#deps = deps;
    this.#validation = deps.x509.directGrant.config?.validation ?? parseValidationOptions({});
  }

  /** Validates the request's certificate chain (before oidc-provider authenticates the client). */
  async prepare(req: IncomingMessage): Promise<void> {
    const chain = this.#deps.certificates.chain(req);
    if (!chain || this.#outcomes.has(req)) return;
    this.#outcomes.set(req, await validateChain(chain, this.#validation, { trust: this.#deps.x509.trust, revocation: this.#deps.revocation, now: Date.now() }));
  }

  /**
   * This request's validation outcome, for a certificate login that validates the same chain with the same options
   * (the certificate direct grant of a realm with certificate clients): undefined when there is none or the options
   * differ.
   */
  outcome(req: IncomingMessage, options: ValidationOptions): ValidationOutcome | undefined {
    return options === this.#validation ? this.#outcomes.get(req) : undefined;
  }

  #rule(client: Client): ClientCertificateRule | undefined {
    const attributes = client[CERTIFICATE_METADATA] as Record<string, string> | undefined;
    if (!attributes) return undefined;
    const key = `${client.clientId}\0${JSON.stringify(attributes)}`;
    let rule = this.#rules.get(key);
    if (!rule) {
      rule = parseClientCertificateRule(attributes); // validated when saved
      this.#rules.set(key, rule);
    }
    return rule;
  }

  /** features.mTLS.certificateAuthorized: the chain is valid for the realm, and comes through a CA the client accepts. */
  authorized(ctx: KoaContextWithOIDC): boolean {
    const outcome = this.#outcomes.get(ctx.req);
    const client = ctx.oidc.client;
    const rule = client && this.#rule(client);
    if (!outcome || !rule) {
      this.#failures.set(ctx.req, { reason: "INVALID_CERTIFICATE", description: DESCRIPTION.INVALID_CERTIFICATE, detail: "not validated" });
      return false;
    }
    if (!outcome.ok) {
      this.#failures.set(ctx.req, { reason: "INVALID_CERTIFICATE", description: `${DESCRIPTION.INVALID_CERTIFICATE}: ${outcome.message}`, detail: outcome.detail });
      return false;
    }
    if (!issuerAllowed(outcome.path, rule)) {
      this.#failures.set(ctx.req, { reason: "ISSUER_NOT_ALLOWED", description: DESCRIPTION.ISSUER_NOT_ALLOWED });
      return false;
    }
    return true;
  }

  /** features.mTLS.certificateSubjectMatches: the client's one subject rule against the leaf. */
  subjectMatches(ctx: KoaContextWithOIDC): boolean {
    const leaf = this.#deps.certificates.chain(ctx.req)?.[0];
    const rule = ctx.oidc.client && this.#rule(ctx.oidc.client);
    if (!leaf || !rule) return false;
    if (subjectMatches(leaf, rule.subject)) return true;
    this.#failures.set(ctx.req, { reason: "SUBJECT_MISMATCH", description: `Client certificate does not match the client's registered ${SUBJECT_LABEL[rule.subject.kind]}` });
    return false;
  }

  /**
   * Called for every client-authentication error (grant.error and the other routes' error events): for a certificate
   * client, records CLIENT_LOGIN_ERROR and remembers the description for answer(). True when it was one.
   */
  failed(ctx: KoaContextWithOIDC, err: { error?: string; error_detail?: string }): boolean {
    const client = ctx.oidc?.client;
    if (err.error !== "invalid_client" || !isCertificateMethod(client)) return false;
    const reason = PROVIDER_DETAIL[err.error_detail ?? ""] ?? "INVALID_CERTIFICATE";
    const failure = this.#failures.get(ctx.req) ?? { reason, description: DESCRIPTION[reason] };
    this.#failures.set(ctx.req, failure);
    const leaf: Certificate | undefined = this.#deps.certificates.chain(ctx.req)?.[0];
    if (failure.reason === "INVALID_CERTIFICATE" && failure.detail) {
      this.#deps.log.info({ realm: this.#deps.realm.name, client: client?.clientId, detail: failure.detail, serial: leaf?.serialDecimal }, "client certificate refused");
    }
    this.#deps.events.record({
      realmId: this.#deps.realm.id,
      type: "CLIENT_LOGIN_ERROR",
      clientId: client?.clientId,
      ipAddress: ctx.ip,
      error: "invalid_client_credentials",
      details: {
        auth_method: client?.clientAuthMethod,
        reason: failure.reason,
        ...(typeof ctx.oidc.params?.grant_type === "string" && { grant_type: ctx.oidc.params.grant_type }),
        ...(leaf && certificateAudit(leaf)),
      },
    });
    return true;
  }

  /** After the route: the answer names the failure's class (oidc-provider says only "client authentication failed"). */
  answer(ctx: KoaContextWithOIDC): void {
    const failure = this.#failures.get(ctx.req);
    const body = ctx.body as { error?: unknown } | undefined;
    if (failure && ctx.status === 401 && body?.error === "invalid_client") ctx.body = { error: "invalid_client", error_description: failure.description };
  }
}
