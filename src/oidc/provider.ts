// One oidc-provider instance per realm, at Keycloak's URLs: issuer `${IDP_PUBLIC_URL}/realms/{realm}`, endpoints under
// /protocol/openid-connect/. Extended only through the provider's own hooks: adapter, findAccount, interactions,
// loadExistingGrant, registerGrantType, renderError/logout sources, events, and the Client prototype methods the
// maintainer documents for hashed secrets (panva/node-oidc-provider#631) and redirect URI matching.
import type { KoaContextWithOIDC, Configuration, Client, ErrorOut } from "oidc-provider";
import { Provider, errors } from "oidc-provider";
import type { Context } from "koa";
import type { X509Certificate } from "node:crypto";
import type { Prisma } from "../db/database.ts";
import { SETTLE_TIMEOUT_MS, type DurableEvents, type EventType } from "../events/event-store.ts";
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from "../db/unavailable.ts";
import { UNAVAILABLE } from "../http/errors.ts";
import { PAGE_HEADERS, type Views } from "../views.ts";
import type { Logger } from "../log.ts";
import type { Realm } from "../realms/realm-store.ts";
import { ClientStore } from "../realms/client-store.ts";
import { BruteForceGuard } from "../users/brute-force.ts";
import type { RealmUsers } from "../users/federation.ts";
import type { LdapProviders } from "../ldap/providers.ts";
import { UserStore } from "../users/user-store.ts";
import { accountFinder, CLAIMS } from "./account.ts";
import { prismaAdapter } from "./adapter.ts";
import { AccessTokenJwts, aliasStructuredTokens, fromAlias, issueJwtAccessTokens, keycloakIntrospection } from "./access-tokens.ts";
import { cachedClients } from "./client-cache.ts";
import { compareHashedSecret, EXTRA_CLIENT_METADATA, toClientMetadata } from "./clients.ts";
import { CertificateClients, isCertificateMethod } from "./certificate-clients.ts";
import { logoutWithoutPrompt } from "./logout.ts";
import { certificateAudit } from "../x509/index.ts";
import { redirectUriMatches } from "../realms/redirect-uri.ts";
import { BINDING_CERTIFICATE_MISSING, loginErrorRecorded, markLoginErrorRecorded, PASSWORD_GRANT_PARAMS, passwordGrant } from "./grants/password.ts";
import type { PrivateJwk } from "./keys.ts";
import { clientScopes, grantedScopes } from "./scopes.ts";
import type { ClientCertificates } from "../http/client-certificate.ts";
import { pinOrigin } from "../http/public-origin.ts";
import type { X509Settings } from "../realms/x509-settings.ts";
import type { RevocationChecker } from "../x509/index.ts";
import type { SecretBox } from "../config/secret-box.ts";
import type { Metrics } from "../metrics.ts";

export interface RealmProviderDeps {
  db: Prisma;
  publicUrl: string;
  /** The certificate listener's public URL (IDP_MTLS_PUBLIC_URL / IDP_MTLS_PORT): discovery's mtls_endpoint_aliases. */
  mtlsPublicUrl?: string;
  log: Logger;
  events: DurableEvents;
  views: Views;
  revocation: RevocationChecker;
  certificates: ClientCertificates;
  /** Each federated realm's LDAP connection (kept across requests). */
  ldap: LdapProviders;
  /** Opens the realm's sealed signing and cookie keys. */
  secrets: SecretBox;
  /** Token requests and refusals for GET /metrics (the serving process's). */
  metrics?: Metrics;
}

export const realmBase = (realm: string) => `/realms/${realm}`;

/** How long client metadata may be served from memory (see client-cache.ts). */
export const CLIENT_CACHE_MS = 5_000;

/** Keycloak's endpoint paths, relative to the realm's issuer. */
export const ROUTES = {
  authorization: "/protocol/openid-connect/auth",
  token: "/protocol/openid-connect/token",
  userinfo: "/protocol/openid-connect/userinfo",
  jwks: "/protocol/openid-connect/certs",
  end_session: "/protocol/openid-connect/logout",
  introspection: "/protocol/openid-connect/token/introspect",
  revocation: "/protocol/openid-connect/revoke",
  pushed_authorization_request: "/protocol/openid-connect/ext/par/request",
} as const;

/** Routes whose answers are pages for a browser (an outage there is a page too). */
const PAGE_ROUTES = new Set(["authorization", "resume", "end_session", "end_session_confirm", "end_session_success"]);

/** How long the discovery document may be cached (it changes only when a release does). */
const DISCOVERY_MAX_AGE_SECONDS = 300;

/** Keycloak's descriptions when a client uses a grant type it is not enabled for. */
const UNAUTHORIZED_GRANT: Record<string, string> = {
  password: "Client not allowed for direct access grants",
  client_credentials: "Client not enabled to retrieve service account",
  authorization_code: "Client not allowed to exchange code",
};

const GRANT_EVENTS: Record<string, [EventType, EventType] | undefined> = {
  authorization_code: ["CODE_TO_TOKEN", "CODE_TO_TOKEN_ERROR"],
  refresh_token: ["REFRESH_TOKEN", "REFRESH_TOKEN_ERROR"],
  client_credentials: ["CLIENT_LOGIN", "CLIENT_LOGIN_ERROR"],
  password: [ "LOGIN", "LOGIN_ERROR"],
};

function htmlPage(ctx: KoaContextWithOIDC, views: Views, realm: Realm, template: string, title: string, data: Record<string, unknown>) {
  ctx.type = "html";
  ctx.set(PAGE_HEADERS);
  ctx.body = views.render(template, { title, realm, ...data }, ctx.get("accept-language"));
}

export async function createRealmProvider(deps: RealmProviderDeps, realm: Realm, keys: { signing: PrivateJwk[]; cookies: string[] }, x509: X509Settings, directory: RealmUsers): Promise<Provider> {
  const { db, views, log, events } = deps;
  const base = realmBase(realm.name);
  const users = new UserStore(db);
  const clients = new ClientStore(db);
  const guard = new BruteForceGuard(db);
  const message = (ctx: KoaContextWithOIDC, key: string) => views.message(key, ctx.get("accept-language"));
  const issuer = `${deps.publicUrl}${base}`;
  const jwts = new AccessTokenJwts(issuer, keys.signing, realm.defaultSignatureAlgorithm);
  // Clients that authenticate with a certificate (certificate-clients.ts); their chains are validated only in realms
  // that have such clients (the provider is rebuilt when clients change).
  const certificateClients = (await clients.hasCertificateClients(realm.id))
    ? new CertificateClients({ x509, revocation: deps.revocation, certificates: deps.certificates, events, log, realm })
    : undefined;

  const longCookie = { httpOnly: true, sameSite: "lax" as const, path: base };
  const configuration: Configuration = {
    adapter: prismaAdapter(db, realm.id, cachedClients(async (clientId) => {
      const c = await clients.findByClientId(realm.id, clientId);
      return c ? toClientMetadata(c, realm) : undefined;
    }, CLIENT_CACHE_MS), jwts),
    findAccount: accountFinder(users, realm.id),
    jwks: { keys: keys.signing as NonNullable<Configuration["jwks"]>["keys"] },
    routes: ROUTES,
    scopes: ["openid", "offline_access", "profile", "email"],
    // Authorization code flow only: no implicit or hybrid responses (tokens in the front channel).
    responseTypes: ["code", "none"],
    claims: JSON.parse(JSON.stringify(CLAIMS)) as Configuration["claims"],
    // Keycloak puts the profile and e-mail claims into the ID token as well as userinfo.
    conformIdTokenClaims: false,
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "tls_client_auth", "self_signed_tls_client_auth", "none"],
    enabledJWA: { idTokenSigningAlgValues: ["ES256", "RS256"], userinfoSigningAlgValues: ["ES256", "RS256"] },
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA] },
    cookies: {
      keys: keys.cookies,
      names: { session: "X509IDP_SESSION", interaction: "X509IDP_INTERACTION", resume: "X509IDP_RESUME" },
      long: longCookie,
      short: { httpOnly: true, sameSite: "lax", path: base },
    },
    features: {
      devInteractions: { enabled: false },
      // Sender-constrained tokens are certificate-bound (mTLS below, RFC 8705): DPoP is not offered, so it is neither
      // advertised nor half-supported (x509-idp's own resources check only certificate bindings, http/bearer.ts).
      dPoP: { enabled: false },
      // Pushed authorization requests (RFC 9126) at Keycloak's path (ROUTES): the same client, redirect URI and PKCE
      // checks as a front-channel request, then a single-use request_uri.
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false, allowUnregisteredRedirectUris: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      // Client authentication by certificate (RFC 8705 §2, certificate-clients.ts), and tokens bound to the certificate
      // (§3): of a certificate login, and of every grant of a client with bound tokens; every resource checks it.
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => deps.certificates.x509(ctx.req),
        certificateAuthorized: (ctx) => certificateClients?.authorized(ctx) ?? false,
        certificateSubjectMatches: (ctx) => certificateClients?.subjectMatches(ctx) ?? false,
      },
      rpInitiatedLogout: {
        enabled: true,
        // With a valid id_token_hint for this session: no question, as Keycloak (oidc/logout.ts).
        logoutSource: async (ctx, form) => {
          if (await logoutWithoutPrompt(ctx, longCookie)) return;
          htmlPage(ctx, views, realm, "logout", message(ctx, "logoutConfirmTitle"), { form });
        },
        postLogoutSuccessSource: async (ctx) =>
          htmlPage(ctx, views, realm, "logged-out", message(ctx, "loggedOutTitle"), { clientName: ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId }),
      },
    },
    interactions: { url: (_ctx, interaction) => `${base}/login-actions/${interaction.uid}` },
    // RFC 8705 §5: where a client doing mutual TLS sends its requests, when certificates have a listener of their own.
    ...(deps.mtlsPublicUrl !== undefined && {
      discovery: {
        mtls_endpoint_aliases: {
          token_endpoint: `${deps.mtlsPublicUrl}${base}${ROUTES.token}`,
          introspection_endpoint: `${deps.mtlsPublicUrl}${base}${ROUTES.introspection}`,
          revocation_endpoint: `${deps.mtlsPublicUrl}${base}${ROUTES.revocation}`,
          userinfo_endpoint: `${deps.mtlsPublicUrl}${base}${ROUTES.userinfo}`,
          pushed_authorization_request_endpoint: `${deps.mtlsPublicUrl}${base}${ROUTES.pushed_authorization_request}`,
        },
      },
    }),
    // Clients that do not require consent get their scopes granted without a consent screen, as in Keycloak.
    async loadExistingGrant(ctx) {
      const client = ctx.oidc.client;
      const session = ctx.oidc.session;
      if (!client || !session?.accountId) return undefined;
      const grantId = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (client["x509idp:consent_required"] === true) return existing;
      const grant = existing ?? new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(grantedScopes(client, ctx.oidc.params?.scope as string | undefined).join(" "));
      await grant.save();
      return grant;
    },
    // Keycloak issues a refresh token to every client allowed to refresh, not only with offline_access.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    // Every refresh rotates the refresh token, so the idle timeout restarts on use (Keycloak's semantics) and a
    // replayed refresh token revokes the grant.
    rotateRefreshToken: true,
    ttl: {
      AccessToken: realm.accessTokenLifespan,
      ClientCredentials: realm.accessTokenLifespan,
      IdToken: realm.accessTokenLifespan,
      AuthorizationCode: realm.accessCodeLifespan,
      Interaction: realm.accessCodeLifespanLogin,
      Session: realm.ssoSessionMaxLifespan,
      Grant: realm.ssoSessionMaxLifespan,
      // Idle timeout, never beyond the session's maximum lifespan counted from the first login.
      RefreshToken: (_ctx, token) => {
        const started = (token as unknown as { iiat?: number }).iiat ?? Math.floor(Date.now() / 1000);
        const left = started + realm.ssoSessionMaxLifespan - Math.floor(Date.now() / 1000);
        return Math.max(1, Math.min(realm.ssoSessionIdleTimeout, left));
      },
    },
    clientBasedCORS: (_ctx, origin, client) => {
      const allowed = client["x509idp:web_origins"];
      return Array.isArray(allowed) && (allowed.includes("*") || allowed.includes(origin));
    },
    async renderError(ctx, out: ErrorOut, error) {
      const timedOut = error instanceof errors.SessionNotFound;
      const text = timedOut ? message(ctx, "loginTimeout") : out.error_description ?? message(ctx, "invalidRequestMessage");
      htmlPage(ctx, views, realm, "error", message(ctx, "errorTitle"), { message: text });
    },
  };

  const provider = new Provider(issuer, configuration);
  // Access tokens are Keycloak's JWTs unless the client asks for opaque ones (oidc/access-tokens.ts).
  issueJwtAccessTokens(provider, jwts);
  // X-Forwarded-* count only from trusted proxies: the request gate (http/forwarded.ts) removed everyone else's; the
  // client's address is read from them, never the host or scheme of the URLs built (http/public-origin.ts).
  provider.proxy = true;
  pinOrigin(provider, deps.publicUrl);

  provider.Client.prototype.compareClientSecret = function (this: Client, actual: string) {
    return compareHashedSecret(this.clientSecret, actual);
  };
  provider.Client.prototype.redirectUriAllowed = function (this: Client, value: string) {
    return redirectUriMatches(this.redirectUris ?? [], value);
  };
  // Keycloak's ID tokens always name their session (sid), not only for clients with back-channel logout: a logout's
  // id_token_hint is then checked against the browser's session (oidc/logout.ts).
  (provider.Client.prototype as unknown as { includeSid(): boolean }).includeSid = () => true;
  provider.Client.prototype.postLogoutRedirectUriAllowed = function (this: Client, value: string) {
    return redirectUriMatches(this.postLogoutRedirectUris ?? [], value);
  };

  // Outermost: an answer that recorded events waits until they are stored (nothing acknowledged is lost), and a
  // database outage is 503 temporarily_unavailable with Retry-After, never oidc-provider's 500 server_error.
  provider.use(async (ctx, next) => {
    const mark = events.sequence;
    await next();
    const failure = (ctx.state as { serverError?: unknown }).serverError;
    if (failure !== undefined && isDatabaseUnavailable(failure)) return unavailable(ctx);
    if (events.sequence > mark) {
      try {
        await events.settle(SETTLE_TIMEOUT_MS);
      } catch (e) {
        log.warn({ err: e, realm: realm.name, path: ctx.path }, "answer withheld: its events could not be stored");
        return unavailable(ctx);
      }
    }
  });
  /** 503: as a redirect to the client (authorization), a page (the browser's other pages) or OAuth JSON. */
  const unavailable = (ctx: Context) => {
    deps.metrics?.databaseUnavailable();
    const location = ctx.response.get("Location");
    ctx.set("Retry-After", String(RETRY_AFTER_SECONDS));
    ctx.set("Cache-Control", "no-store");
    if (location && /[?&#]error=server_error/.test(location)) {
      // RFC 6749 §4.1.2.1: the authorization endpoint tells the client to try again later.
      ctx.redirect(location.replace("error=server_error", `error=${UNAVAILABLE.error}`).replace(/error_description=[^&#]*/, `error_description=${encodeURIComponent(UNAVAILABLE.description)}`));
      return;
    }
    ctx.remove("Location");
    ctx.status = 503;
    const oidcCtx = ctx as unknown as KoaContextWithOIDC;
    if (PAGE_ROUTES.has((ctx as { oidc?: { route?: string } }).oidc?.route ?? "") || ctx.type === "text/html") {
      htmlPage(oidcCtx, views, realm, "error", message(oidcCtx, "errorTitle"), { message: message(oidcCtx, UNAVAILABLE.messageKey) });
      ctx.status = 503;
    } else {
      ctx.body = { error: UNAVAILABLE.error, error_description: UNAVAILABLE.description };
    }
  };

  provider.use(aliasStructuredTokens([ROUTES.introspection, ROUTES.revocation]));
  // Introspection answers as Keycloak's do: the token's claims, `username` (access-tokens.ts).
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path !== ROUTES.introspection || ctx.status !== 200 || body?.active !== true) return;
    const token = (ctx as unknown as KoaContextWithOIDC).oidc?.params?.token;
    ctx.body = await keycloakIntrospection(body, typeof token === "string" ? fromAlias(token) : undefined, async (sub) => (await users.findById(realm.id, sub))?.username);
  });

  // Certificate clients: the chain is validated before oidc-provider authenticates the client (its hooks are
  // synchronous); afterwards a refusal names its class. Keycloak's answers for a bound-token client without its
  // certificate (keycloak-oidc.md §2) replace oidc-provider's.
  const bindingErrors = new WeakMap<object, { status: number; body: { error: string; error_description: string } }>();
  const REFRESH_BINDING = "Client certificate missing, or its thumbprint and one in the refresh token did NOT match";
  const keycloakBindingError = (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => {
    const detail = (err as { error_detail?: string }).error_detail;
    if (detail !== "mutual TLS client certificate not provided" && detail !== "failed x5t#S256 verification") return;
    const refresh = ctx.oidc?.params?.grant_type === "refresh_token";
    bindingErrors.set(ctx.req, refresh
      ? { status: 401, body: { error: "unauthorized_client", error_description: REFRESH_BINDING } }
      : { status: 400, body: { error: "invalid_request", error_description: BINDING_CERTIFICATE_MISSING } });
  };
  const clientAuthPaths = new Set([ROUTES.token, ROUTES.introspection, ROUTES.revocation, ROUTES.pushed_authorization_request] as string[]);
  provider.use(async (ctx, next) => {
    if (certificateClients && ctx.method === "POST" && clientAuthPaths.has(ctx.path)) await certificateClients.prepare(ctx.req);
    await next();
    certificateClients?.answer(ctx as unknown as KoaContextWithOIDC);
    const keycloak = bindingErrors.get(ctx.req);
    if (keycloak && ctx.status >= 400) {
      ctx.status = keycloak.status;
      ctx.body = keycloak.body;
    }
  });
  // A refresh token of a client with bound tokens is bound to the certificate of the request that got it, whatever
  // the client's authentication (oidc-provider binds only public clients' ones): a refresh needs that certificate
  // again, as in Keycloak.
  const saveRefreshToken = provider.RefreshToken.prototype.save;
  provider.RefreshToken.prototype.save = function (this: InstanceType<Provider["RefreshToken"]>, ...args: unknown[]) {
    const client = (this as unknown as { client?: Client }).client;
    if (!this["x5t#S256"] && client?.tlsClientCertificateBoundAccessTokens) {
      const cert = Provider.ctx && deps.certificates.x509(Provider.ctx.req);
      if (cert) (this as unknown as { setThumbprint(prop: "x5t", cert: X509Certificate): void }).setThumbprint("x5t", cert);
    }
    return (saveRefreshToken as (...a: unknown[]) => Promise<string>).apply(this, args);
  };

  provider.registerGrantType("password", passwordGrant(provider, () => ({
    realm, directory, guard, events, x509, revocation: deps.revocation, log, certificates: deps.certificates,
    ...(certificateClients && { validated: (req, options) => certificateClients.outcome(req, options) }),
  })), [...PASSWORD_GRANT_PARAMS]);

  // Keycloak applies a client's default scopes to every request; oidc-provider only issues what was asked for, so
  // they are added to the authorization request before it is processed.
  provider.use(async (ctx, next) => {
    await next();
    // Discovery names only the public URL (http/public-origin.ts), so shared caches may keep it a while.
    if (ctx.oidc?.route === "discovery" && ctx.status === 200) ctx.set("Cache-Control", `public, max-age=${DISCOVERY_MAX_AGE_SECONDS}`);
    // RFC 6749 §5.2 (and Keycloak) answer unauthorized_client when an authenticated client may not use a grant type.
    const client = ctx.oidc?.client;
    const gty = ctx.oidc?.params?.grant_type;
    const refused = (ctx.body as { error?: unknown } | undefined)?.error === "invalid_request";
    if (ctx.oidc?.route === "token" && refused && client && typeof gty === "string" && !client.grantTypeAllowed(gty)) {
      ctx.body = { error: "unauthorized_client", error_description: UNAUTHORIZED_GRANT[gty] ?? "Client not allowed to use this grant type" };
    }
  });
  provider.use(async (ctx, next) => {
    if (ctx.method === "GET" && ctx.path === ROUTES.authorization && typeof ctx.query.client_id === "string" && typeof ctx.query.scope === "string") {
      const asked = ctx.query.scope.split(" ");
      const client = asked.includes("openid") ? await provider.Client.find(ctx.query.client_id).catch(() => undefined) : undefined;
      if (client) {
        const missing = clientScopes(client).defaults.filter((s) => !asked.includes(s));
        if (missing.length) {
          // oidc-provider derives its mount path as "originalUrl up to url": keep the two in step.
          const req = ctx.req as typeof ctx.req & { originalUrl?: string };
          const at = req.originalUrl?.indexOf(ctx.url) ?? -1;
          const mount = at > 0 && req.originalUrl ? req.originalUrl.slice(0, at) : "";
          ctx.query = { ...ctx.query, scope: [...asked, ...missing].join(" ") };
          req.originalUrl = mount + ctx.url;
        }
      }
    }
    await next();
  });

  const record = (type: EventType, ctx: KoaContextWithOIDC, error?: string) =>
    events.record({
      realmId: realm.id,
      type,
      clientId: ctx.oidc?.client?.clientId,
      userId: ctx.oidc?.entities.Account?.accountId ?? ctx.oidc?.session?.accountId,
      ipAddress: ctx.ip,
      error,
      details: { grant_type: ctx.oidc?.params?.grant_type as string | undefined, ...certificateDetails(ctx) },
    });
  /** A client that authenticated with its certificate: the method and the certificate, as Keycloak records a user's. */
  const certificateDetails = (ctx: KoaContextWithOIDC): Record<string, string> => {
    const client = ctx.oidc?.client;
    const leaf = isCertificateMethod(client) ? deps.certificates.chain(ctx.req)?.[0] : undefined;
    return leaf ? { auth_method: client?.clientAuthMethod ?? "", ...certificateAudit(leaf) } : {};
  };
  provider.on("grant.success", (ctx: KoaContextWithOIDC) => {
    const gty = ctx.oidc.params?.grant_type as string;
    deps.metrics?.tokenRequest(realm.name, gty);
    if (gty !== "password") { const t = GRANT_EVENTS[gty]; if (t) record(t[0], ctx); }
  });
  provider.on("grant.error", (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => {
    const gty = ctx.oidc?.params?.grant_type as string | undefined;
    keycloakBindingError(ctx, err);
    // A certificate client's failed authentication records its own CLIENT_LOGIN_ERROR, with the certificate.
    if (certificateClients?.failed(ctx, err)) markLoginErrorRecorded(ctx);
    deps.metrics?.tokenRequest(realm.name, gty, err.error);
    const t = gty ? GRANT_EVENTS[gty] : undefined;
    // The password grant (with a certificate too) records its own, more precise, LOGIN_ERROR.
    if (t && !loginErrorRecorded(ctx)) record(t[1], ctx, err.error);
  });
  const clientAuthFailed = (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => void certificateClients?.failed(ctx, err);
  provider.on("introspection.error", clientAuthFailed);
  provider.on("revocation.error", clientAuthFailed);
  provider.on("pushed_authorization_request.error", clientAuthFailed);
  provider.on("end_session.success", (ctx: KoaContextWithOIDC) => record("LOGOUT", ctx));
  provider.on("end_session.error", (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => record("LOGOUT_ERROR", ctx, err.error));
  provider.on("authorization.error", (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => record("LOGIN_ERROR", ctx, err.error));
  provider.on("server_error", (ctx: KoaContextWithOIDC, err: Error) => {
    (ctx.state as { serverError?: unknown }).serverError = err;
    if (isDatabaseUnavailable(err)) log.warn({ err, realm: realm.name, path: ctx.path }, "request refused: the database does not answer");
    else log.error({ err, realm: realm.name, path: ctx.path }, "oidc-provider server error");
  });
  return provider;
}
