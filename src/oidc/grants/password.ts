// grant_type=password (Keycloak's "direct access grant"): username or e-mail + password → tokens, for clients with
// directAccessGrantsEnabled. Error contract as Keycloak's direct grant (keycloak-x509.md §5.2) with RFC 6749's 400
// status: a wrong password, an unknown user and a locked account all answer 400 invalid_grant "Invalid user
// credentials"; a disabled account (right password) answers "Account disabled".
import type { X509Certificate } from "node:crypto";
import type { KoaContextWithOIDC, Provider } from "oidc-provider";
import { errors } from "oidc-provider";
import { SETTLE_TIMEOUT_MS, type EventCommitter } from "../../events/event-store.ts";
import { collectWrites } from "../adapter.ts";
import type { Realm } from "../../realms/realm-store.ts";
import type { BruteForceGuard } from "../../users/brute-force.ts";
import type { RealmUsers } from "../../users/federation.ts";
import { authenticatePassword, lockoutEvent, type PasswordFailure } from "../../users/password-login.ts";
import type { UserRecord } from "../../users/user-store.ts";
import { toAccount } from "../account.ts";
import { grantedScopes } from "../scopes.ts";
import { certificateGrant, isCertificateGrant, type CertificateGrantDeps } from "./certificate.ts";

export const PASSWORD_GRANT_PARAMS = ["username", "password", "scope"] as const;

export interface PasswordGrantDeps {
  realm: Realm;
  /** The realm's users: local, and LDAP when federated. */
  directory: RealmUsers;
  guard: BruteForceGuard;
  events: EventCommitter;
}

/** Keycloak's answer when a client with certificate-bound tokens asks for tokens without a certificate. */
export const BINDING_CERTIFICATE_MISSING = "Client Certification missing for MTLS HoK Token Binding";

/** The answer when LDAP cannot be asked: 503, so clients retry later; no server, URL or error text is revealed. */
export const DIRECTORY_UNAVAILABLE = "The user directory is not available; try again later.";

/** Requests whose grant recorded its own, more precise, LOGIN_ERROR: oidc-provider's grant.error must not add one. */
const ownLoginError = new WeakSet<object>();
export const markLoginErrorRecorded = (ctx: object) => void ownLoginError.add(ctx);
export const loginErrorRecorded = (ctx: object) => ownLoginError.has(ctx);

export function grantError(error: string, description: string, status = 400): Error {
  const err = new errors.CustomOIDCProviderError(error, description);
  Object.assign(err, { status, statusCode: status });
  return err;
}

const DESCRIPTION: Record<PasswordFailure, string> = {
  invalid_user_credentials: "Invalid user credentials",
  user_not_found: "Invalid user credentials",
  user_temporarily_disabled: "Invalid user credentials",
  user_disabled: "Account disabled",
  directory_unavailable: DIRECTORY_UNAVAILABLE,
};

/**
 * Issues access, refresh and (with `openid`) ID tokens for `user`, exactly as the built-in grants shape them. With
 * `boundTo`, the access and refresh tokens are bound to that certificate (RFC 8705 §3).
 */
export async function issueDirectGrantTokens(
  provider: Provider,
  ctx: KoaContextWithOIDC,
  user: UserRecord,
  amr: string[],
  boundTo?: X509Certificate,
): Promise<{ scope: string; body: Record<string, unknown> }> {
  const client = ctx.oidc.client;
  if (!client) throw new Error("client authentication must run before the grant");
  const scopes = grantedScopes(client, ctx.oidc.params?.scope as string | undefined);
  const scope = scopes.join(" ");
  const account = toAccount(user);
  ctx.oidc.entity("Account", account);

  const grant = new provider.Grant({ accountId: user.id, clientId: client.clientId });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  ctx.oidc.entity("Grant", grant);

  const authTime = Math.floor(Date.now() / 1000);
  const at = new provider.AccessToken({ accountId: user.id, client, grantId, gty: "password", scope });
  if (boundTo) at.setThumbprint("x5t", boundTo);
  ctx.oidc.entity("AccessToken", at);
  const accessToken = await at.save();

  let refreshToken: string | undefined;
  if (client.grantTypeAllowed("refresh_token")) {
    const rt = new provider.RefreshToken({ accountId: user.id, client, grantId, gty: "password", scope, amr, authTime, rotations: 0 });
    // A refresh needs the same certificate, and its access token is bound again.
    if (at["x5t#S256"]) rt["x5t#S256"] = at["x5t#S256"];
    ctx.oidc.entity("RefreshToken", rt);
    refreshToken = await rt.save();
  }

  let idToken: string | undefined;
  if (scopes.includes("openid")) {
    const token = new provider.IdToken(await account.claims("id_token", scope, {}, []), { ctx });
    // The claims mask: only claims of the granted scopes are issued (the property is missing from @types);
    // set() adds claims after masking.
    (token as unknown as { scope: string }).scope = scope;
    token.set("amr", amr);
    token.set("auth_time", authTime);
    idToken = await token.issue({ use: "idtoken" });
  }
  return {
    scope,
    body: {
      access_token: accessToken,
      expires_in: at.expiration,
      ...(refreshToken && { refresh_token: refreshToken }),
      token_type: at.tokenType,
      ...(idToken && { id_token: idToken }),
      scope,
    },
  };
}

export function passwordGrant(provider: Provider, deps: () => PasswordGrantDeps & CertificateGrantDeps) {
  return async (ctx: KoaContextWithOIDC): Promise<void> => {
    const all = deps();
    const { realm, directory, guard, events } = all;
    const params = (ctx.oidc.params ?? {}) as Record<string, string | undefined>;
    if (isCertificateGrant(all.x509, params)) return certificateGrant(provider, ctx, all);
    const clientId = ctx.oidc.client?.clientId;
    const base = { realmId: realm.id, clientId, ipAddress: ctx.ip };
    const username = params.username ?? "";
    const password = params.password ?? "";
    if (!username) throw grantError("invalid_request", "Missing parameter: username");
    if (!password) throw grantError("invalid_request", "Missing parameter: password");

    // A client with certificate-bound tokens gets them from this grant too (Keycloak's check and answer).
    const boundTo = ctx.oidc.client?.tlsClientCertificateBoundAccessTokens ? all.certificates.x509(ctx.req) : undefined;
    if (ctx.oidc.client?.tlsClientCertificateBoundAccessTokens && !boundTo) throw grantError("invalid_request", BINDING_CERTIFICATE_MISSING);

    const outcome = await authenticatePassword({ users: directory, guard }, realm, username, password, ctx.ip);
    if (outcome.kind === "failure") {
      events.record({
        ...base,
        type: "LOGIN_ERROR",
        userId: outcome.user?.id,
        error: outcome.error,
        details: { grant_type: "password", auth_method: "pwd", username, ...(outcome.lockout?.locked && { locked_by: outcome.lockout.by }) },
      });
      markLoginErrorRecorded(ctx);
      const lockout = lockoutEvent(outcome);
      if (lockout) events.record({ ...base, ...lockout });
      if (outcome.error === "directory_unavailable") throw grantError("temporarily_unavailable", DESCRIPTION[outcome.error], 503);
      throw grantError("invalid_grant", DESCRIPTION[outcome.error]);
    }
    const { result: { scope, body }, writes } = await collectWrites(() => issueDirectGrantTokens(provider, ctx, outcome.user, ["pwd"], boundTo));
    await events.commit({
      ...base,
      type: "LOGIN",
      userId: outcome.user.id,
      details: { grant_type: "password", username: outcome.user.username, auth_method: "pwd", scope },
    }, writes, SETTLE_TIMEOUT_MS);
    ctx.body = body;
  };
}
