// Bearer access tokens at x509-idp's own resources (the admin API, and any resource added later): one rule for all.
// The token must have RFC 6750's syntax, be found in its realm and be unexpired; a sender-constrained token must come
// with its proof: for a certificate-bound token (RFC 8705 §3, cnf.x5t#S256) the request presents that very
// certificate, on the TLS connection or through a trusted proxy's lookup. Userinfo is oidc-provider's resource and
// applies the same rule with the same certificate source (features.mTLS.getCertificate in oidc/provider.ts).
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Context } from "koa";
import type { RealmRegistry } from "../oidc/registry.ts";
import type { ClientCertificates } from "./client-certificate.ts";
import { HttpError } from "./errors.ts";

/** The token facts a resource decides on. */
export interface BearerToken {
  accountId: string;
  clientId: string;
  scope: string | undefined;
}

export interface BearerDeps {
  registry: RealmRegistry;
  certificates: ClientCertificates;
}

/** RFC 6750 §2.1: b64token. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]{1,4096}=*)$/i;

/** The RFC 8705 §3 thumbprint of the certificate this request presents, or undefined without one. */
export function presentedThumbprint(certificates: ClientCertificates, req: IncomingMessage): string | undefined {
  const leaf = certificates.chain(req)?.[0];
  return leaf ? Buffer.from(leaf.sha256, "hex").toString("base64url") : undefined;
}

/** Whether the request carries the proof a token's binding asks for (a token without binding needs none). */
export function senderConstraintHolds(token: { "x5t#S256"?: string | undefined; jkt?: string | undefined }, presented: string | undefined): boolean {
  // DPoP is off (oidc/provider.ts): a DPoP-bound token can only be a forgery or from an older configuration.
  if (token.jkt !== undefined) return false;
  const bound = token["x5t#S256"];
  if (bound === undefined) return true;
  if (presented === undefined || presented.length !== bound.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(bound));
}

/** The valid access token of `realm` this request bears, or a 401 with RFC 6750's WWW-Authenticate. */
export async function authenticateBearer(deps: BearerDeps, realm: string, ctx: Context): Promise<BearerToken> {
  const refuse = (error?: string, description?: string): HttpError => {
    ctx.set("WWW-Authenticate", `Bearer realm="${realm}"${error ? `, error="${error}", error_description="${description}"` : ""}`);
    return new HttpError(401, "invalid_token", description ?? `a valid bearer access token of the ${realm} realm is required`);
  };
  const m = BEARER.exec(ctx.get("authorization"));
  if (!m?.[1]) throw refuse();
  const runtime = await deps.registry.get(realm);
  const token = runtime ? await runtime.provider.AccessToken.find(m[1]) : undefined;
  if (!token || token.isExpired || !token.accountId) throw refuse("invalid_token", "the access token is not valid");
  if (!senderConstraintHolds(token, presentedThumbprint(deps.certificates, ctx.req))) {
    throw refuse("invalid_token", "the access token is bound to a client certificate this request does not present");
  }
  return { accountId: token.accountId, clientId: token.clientId ?? "", scope: token.scope };
}
