// RP-initiated logout as Keycloak (18+) does it: with a valid id_token_hint for the browser's own session (and, if
// given, a post_logout_redirect_uri registered for the hint's client), the session ends and the browser goes back at
// once; otherwise the "Do you want to log out?" page is shown as before (keycloak-oidc.md §3). oidc-provider has
// already checked what it checks before its logoutSource hook: the hint's signature, issuer and audience (a client of
// the realm; an expired hint is accepted, as Keycloak accepts it), client_id against the hint's audience, and the
// redirect URI against that client. What is done here is what its confirm step does for "log out of everything".
import type { KoaContextWithOIDC } from "oidc-provider";

/** Ends the session without asking when the hint is for this session's user; false when the page is still due. */
export async function logoutWithoutPrompt(ctx: KoaContextWithOIDC, longCookie: object): Promise<boolean> {
  const hint = ctx.oidc.entities.IdTokenHint as unknown as { payload?: { sub?: unknown; sid?: unknown; aud?: unknown } } | undefined;
  const session = ctx.oidc.session;
  const accountId = session?.accountId;
  // A hint for someone else than the browser's user (or no session at all) is no reason to skip the question; nor is
  // one of another session of the same user (its sid is not this session's, as Keycloak compares them).
  if (!session || !accountId || hint?.payload?.sub !== accountId) return false;
  const { sid, aud } = hint.payload;
  if (typeof sid === "string" && (typeof aud !== "string" || session.sidFor(aud) !== sid)) return false;
  const { provider } = ctx.oidc;
  for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
    const grantId = (authorization as { grantId?: string }).grantId;
    if (!grantId || session.authorizationFor(clientId)?.persistsLogout) continue;
    // The grant and every token of it, as oidc-provider's revoke() does (JWT access tokens end with their grant).
    await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode].map((m) => m.revokeByGrantId(grantId)));
    await provider.Grant.adapter.destroy(grantId);
  }
  await session.destroy();
  ctx.cookies.set(provider.cookieName("session"), null, { ...longCookie, signed: true });
  const redirect = ctx.oidc.params?.post_logout_redirect_uri as string | undefined;
  const state = ctx.oidc.params?.state as string | undefined;
  let target: string;
  if (redirect) {
    const u = new URL(redirect);
    if (state !== undefined) u.searchParams.set("state", state);
    target = u.href;
  } else {
    target = ctx.oidc.urlFor("end_session_success");
  }
  provider.emit("end_session.success", ctx);
  ctx.status = 303;
  ctx.redirect(target);
  return true;
}
