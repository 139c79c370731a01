// The browser login: oidc-provider hands interactions to /realms/{realm}/login-actions/{uid}; these routes render
// the login and consent pages and report the outcome back to the provider. Forms are CSRF-protected twice: the
// interaction cookie is SameSite=Lax (a cross-site POST arrives without it) and each form carries an HMAC token
// bound to the interaction. Everything works without JavaScript.
//
// Certificate login (keycloak-x509.md §5.1) runs when the login page is requested: no certificate → the password
// page, silently; a certificate and the realm's browser X.509 login → validation, identity, user, then the
// confirmation page ("You will be logged in as …", Continue / Ignore), or the password page with an error banner.
// Continue is accepted only with the same certificate on the connection, and the certificate login is run again.
// The pending login travels in a form field bound by HMAC to the interaction, the user and the certificate.
//
// When the main port does not ask for certificates (IDP_HTTPS_CLIENT_CERT=none), the certificate step happens on the
// certificate listener: on IDP_PUBLIC_URL's host name the login page itself moves there (cookies are shared across
// ports); on a host name of its own (IDP_MTLS_PUBLIC_URL, no shared cookies) that listener only reads the certificate
// and hands the chain back, HMAC-bound to the interaction and to a state cookie of the main host (login CSRF: nobody
// else's certificate can be handed to this browser), and the login goes on at the main URL.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import Router from "@koa/router";
import type { Context } from "koa";
import { errors } from "oidc-provider";
import type { Prisma } from "../db/database.ts";
import type { EventRecorder } from "../events/event-store.ts";
import type { RealmRegistry, RealmRuntime } from "../oidc/registry.ts";
import { grantedScopes } from "../oidc/scopes.ts";
import { BruteForceGuard } from "../users/brute-force.ts";
import { authenticatePassword, lockoutEvent } from "../users/password-login.ts";
import { loginWithCertificate } from "../users/certificate-login.ts";
import { auditIdentity, Certificate, certificateAudit, CertificateParseError, failureDetails, type CertificateLoginFailure, type RevocationChecker } from "../x509/index.ts";
import { recordIgnoredHeaders, type ClientCertificates, type Presented } from "./client-certificate.ts";
import type { Logger } from "../log.ts";
import { readForm } from "./body.ts";
import { HttpError, notFound } from "./errors.ts";
import { PAGE_HEADERS, type Views } from "../views.ts";

export interface InteractionDeps {
  db: Prisma;
  registry: RealmRegistry;
  views: Views;
  events: EventRecorder;
  revocation: RevocationChecker;
  log: Logger;
  certificates: ClientCertificates;
  /**
   * The certificate listener's origin when the browser's certificate login moves there (IDP_MTLS_PORT on
   * IDP_PUBLIC_URL's host name, which shares its cookies); undefined: it stays where it is.
   */
  certificateOrigin?: string | undefined;
  /** The certificate listener's origin when it has a host name of its own: it hands the certificate back. */
  handoffOrigin?: string | undefined;
  /** IDP_PUBLIC_URL: where the certificate listener hands the certificate back to. */
  publicUrl?: string;
}

const HANDOFF_COOKIE = "X509IDP_HANDOFF";
/** How long a handed-back certificate serves the login (Continue, or the password of the second-factor mode). */
const HANDOFF_SECONDS = 600;
const TOKEN_CHARS = /^[A-Za-z0-9_-]{16,64}$/;

type Details = Awaited<ReturnType<RealmRuntime["provider"]["interactionDetails"]>>;

/** The realm's HMAC (its current cookie key) of `text`, base64url: what the tokens of these pages are bound with. */
const realmMac = (runtime: RealmRuntime, text: string) => createHmac("sha256", runtime.cookieKeys[0] ?? "").update(text).digest("base64url");

/** Whether two strings are equal, in time that does not depend on where they differ. */
function sameText(a: string, b: string | undefined): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b ?? "");
  return x.length === y.length && timingSafeEqual(x, y);
}

function csrfToken(runtime: RealmRuntime, uid: string): string {
  return realmMac(runtime, `csrf:${uid}`);
}

function csrfValid(runtime: RealmRuntime, uid: string, presented: string | undefined): boolean {
  return sameText(csrfToken(runtime, uid), presented);
}

/** A certificate login waiting for Continue or for the password: "<userId>.<certificate SHA-256>.<hmac>". */
function pendingToken(runtime: RealmRuntime, uid: string, userId: string, certSha256: string): string {
  return `${userId}.${certSha256}.${realmMac(runtime, `x509:${uid}:${userId}:${certSha256}`)}`;
}

function readPending(runtime: RealmRuntime, uid: string, token: string | undefined): { userId: string; certSha256: string } | undefined {
  const [userId, certSha256, mac] = (token ?? "").split(".");
  if (!userId || !certSha256 || !mac) return undefined;
  return sameText(pendingToken(runtime, uid, userId, certSha256), token) ? { userId, certSha256 } : undefined;
}

const handoffMac = (runtime: RealmRuntime, payload: string) => realmMac(runtime, `x509-handoff:${payload}`);

/** The chain the certificate listener saw for interaction `uid` and the main host's `state`: "<payload>.<hmac>". */
function writeHandoff(runtime: RealmRuntime, uid: string, state: string, chain: readonly Certificate[]): string {
  const payload = Buffer.from(JSON.stringify({ uid, state, exp: Math.floor(Date.now() / 1000) + HANDOFF_SECONDS, chain: chain.map((c) => c.base64) })).toString("base64url");
  return `${payload}.${handoffMac(runtime, payload)}`;
}

/** The handed-back chain ([] when the listener saw none), or undefined when the token is not this browser's or stale. */
function readHandoff(runtime: RealmRuntime, uid: string, token: string | undefined, state: string | undefined): Certificate[] | undefined {
  const [payload, mac] = (token ?? "").split(".");
  if (!payload || !mac || !state || token === undefined || token.length > 64 * 1024) return undefined;
  if (!sameText(handoffMac(runtime, payload), mac)) return undefined;
  const h = JSON.parse(Buffer.from(payload, "base64url").toString()) as { uid?: unknown; state?: unknown; exp?: unknown; chain?: unknown };
  if (h.uid !== uid || typeof h.state !== "string" || typeof h.exp !== "number" || h.exp < Date.now() / 1000 || !Array.isArray(h.chain)) return undefined;
  if (!sameText(h.state, state)) return undefined;
  try {
    return h.chain.slice(0, 10).map((der) => new Certificate(Uint8Array.from(Buffer.from(String(der), "base64"))));
  } catch (e) {
    if (e instanceof CertificateParseError) return undefined;
    throw e;
  }
}

/** The banner for a failed certificate login (Keycloak's wording), and the event's error. */
function failureBanner(f: CertificateLoginFailure): { keys: [string, ...string[]][]; event: string; reason: string } {
  switch (f.reason) {
    case "INVALID_CERTIFICATE":
      return { keys: [["x509CertValidationFailed"], ["x509CertRevokedOrIncorrect"]], event: "invalid_user_credentials", reason: f.validation.code };
    case "NO_IDENTITY":
      return { keys: [["x509NoIdentity"]], event: "invalid_user_credentials", reason: f.reason };
    case "IDENTITY_NOT_CHOSEN":
      return { keys: [["x509AuthFailed"], ["x509ChooseIdentity", f.candidates.join(", ")]], event: "invalid_user_credentials", reason: f.reason };
    case "DUPLICATE_USERS":
      return { keys: [["x509AuthFailed"], ["x509DuplicateUsers", String(f.count)]], event: "invalid_user_credentials", reason: f.reason };
    case "USER_NOT_FOUND":
      return { keys: [["x509AuthFailed"], ["x509InvalidUser"]], event: "user_not_found", reason: f.reason };
    case "USER_DISABLED":
      return { keys: [["x509AuthFailed"], ["x509UserDisabled"]], event: "user_disabled", reason: f.reason };
    case "DIRECTORY_UNAVAILABLE":
      return { keys: [["x509AuthFailed"], ["directoryUnavailableMessage"]], event: "directory_unavailable", reason: f.reason };
  }
}

export function interactionRoutes(deps: InteractionDeps): Router {
  const { registry, views, events } = deps;
  const guard = new BruteForceGuard(deps.db);
  const router = new Router({ prefix: "/realms/:realm/login-actions/:uid" });

  const lang = (ctx: Context) => ctx.get("accept-language");
  const t = (ctx: Context, key: string, ...args: string[]) => views.message(key, lang(ctx), ...args);

  /** The realm and the interaction of this request; an expired or foreign interaction is a "login timed out" page. */
  async function load(ctx: Context): Promise<{ runtime: RealmRuntime; details: Details; uid: string }> {
    const { realm, uid } = ctx.params as { realm: string; uid: string };
    const runtime = await registry.get(realm);
    if (!runtime?.realm.enabled) throw notFound("Realm does not exist", "realmNotFound");
    let details: Details;
    try {
      details = await runtime.provider.interactionDetails(ctx.req, ctx.res);
    } catch (e) {
      if (e instanceof errors.SessionNotFound) throw new HttpError(400, "invalid_request", "login timed out", "loginTimeout");
      throw e;
    }
    if (details.uid !== uid) throw new HttpError(400, "invalid_request", "login timed out", "loginTimeout");
    return { runtime, details, uid };
  }

  function page(ctx: Context, runtime: RealmRuntime, template: string, title: string, data: Record<string, unknown>, status = 200) {
    ctx.status = status;
    ctx.type = "html";
    ctx.set(PAGE_HEADERS);
    ctx.body = views.render(template, { title, realm: runtime.realm, ...data }, lang(ctx));
  }

  interface LoginPageExtra {
    errors?: string[];
    info?: string;
    username?: string;
    status?: number;
    /** Second-factor mode: the certificate login to finish with the password. */
    x509?: string;
    /** Its certificate, handed back by the certificate listener of another host name. */
    handoff?: string;
  }

  function loginPage(ctx: Context, runtime: RealmRuntime, uid: string, extra: LoginPageExtra = {}) {
    const base = `/realms/${encodeURIComponent(runtime.realm.name)}/login-actions/${uid}`;
    page(ctx, runtime, "login", t(ctx, "loginAccountTitle"), {
      action: `${base}/login`,
      abort: `${base}/abort`,
      csrf: csrfToken(runtime, uid),
      loginWithEmail: runtime.realm.loginWithEmailAllowed,
      errors: extra.errors ?? [],
      info: extra.info,
      username: extra.username ?? "",
      x509: extra.x509,
      handoff: extra.handoff,
      usernameLocked: extra.x509 !== undefined,
    }, extra.status);
  }

  const certificateContext = (ctx: Context, runtime: RealmRuntime, details: Details) => ({
    realm: runtime.realm, x509: runtime.x509, directory: runtime.users, revocation: deps.revocation,
    onUserCreated: (u: { id: string; username: string }) => events.record({
      realmId: runtime.realm.id, type: "REGISTER", clientId: String(details.params.client_id), userId: u.id, ipAddress: ctx.ip,
      details: { auth_method: "x509", register_method: "x509", username: u.username },
    }),
  });

  /**
   * The certificate step of the login page. Returns false when there is nothing to do (no certificate, or the realm
   * does not log in with certificates in the browser) and the plain password page is due.
   */
  async function certificateStep(ctx: Context, runtime: RealmRuntime, details: Details, uid: string, handed?: { chain: Certificate[]; token: string }): Promise<boolean> {
    const flow = runtime.x509.browser;
    const presented: Presented = !handed
      ? deps.certificates.presented(ctx.req)
      : handed.chain.length > 0 ? { kind: "certificate", chain: handed.chain, source: "handoff", ignoredHeaders: [] } : { kind: "none", source: "handoff", ignoredHeaders: [] };
    const clientId = String(details.params.client_id);
    recordIgnoredHeaders(events, presented, { realmId: runtime.realm.id, clientId, ipAddress: ctx.ip });
    const hint = typeof details.params.login_hint === "string" ? details.params.login_hint : undefined;
    if (!flow.enabled) return false;
    if (presented.kind === "invalid") {
      deps.log.warn({ realm: runtime.realm.name, lookup: presented.source, code: presented.code, detail: presented.message }, "the client certificate forwarded by the proxy cannot be read");
      events.record({
        realmId: runtime.realm.id, type: "LOGIN_ERROR", clientId, ipAddress: ctx.ip, error: "invalid_user_credentials",
        details: { auth_method: "x509", reason: "FORWARDED_CERTIFICATE_INVALID", lookup_error: presented.code, redirect_uri: String(details.params.redirect_uri) },
      });
      loginPage(ctx, runtime, uid, { errors: [t(ctx, "x509ForwardedCertificateInvalid")], username: hint ?? "" });
      return true;
    }
    if (presented.kind === "none" && presented.note) deps.log.info({ realm: runtime.realm.name, lookup: presented.source, note: presented.note }, "client certificate not used");
    const chain = presented.kind === "certificate" ? presented.chain : undefined;
    if (!chain) {
      if (!flow.config?.requirePassword) return false;
      loginPage(ctx, runtime, uid, { errors: [t(ctx, "x509CertificateRequired")], username: hint ?? "" });
      return true;
    }
    if (!flow.config) {
      loginPage(ctx, runtime, uid, { info: t(ctx, "x509NotConfigured"), username: hint ?? "" });
      return true;
    }
    const realm = runtime.realm;
    const audit = certificateAudit(chain[0] as Certificate);
    const outcome = await loginWithCertificate(certificateContext(ctx, runtime, details), flow, chain, hint);
    if (!outcome.ok) {
      const banner = failureBanner(outcome);
      if (outcome.reason === "INVALID_CERTIFICATE") {
        deps.log.info({ realm: realm.name, code: outcome.validation.code, detail: outcome.validation.detail, serial: audit.x509_cert_serial_number }, "client certificate refused");
      }
      events.record({
        realmId: realm.id, type: "LOGIN_ERROR", clientId, userId: outcome.user?.id, ipAddress: ctx.ip, error: banner.event,
        details: { auth_method: "x509", reason: banner.reason, redirect_uri: String(details.params.redirect_uri), ...audit, ...failureDetails(outcome), ...(outcome.identity !== undefined && { username: auditIdentity(outcome.identity, flow.config, chain[0] as Certificate) }) },
      });
      loginPage(ctx, runtime, uid, { errors: banner.keys.map(([key, ...args]) => t(ctx, key, ...args)), username: hint ?? "" });
      return true;
    }
    const leaf = outcome.path[0] as Certificate;
    const token = pendingToken(runtime, uid, outcome.user.id, leaf.sha256);
    if (flow.config.requirePassword) {
      loginPage(ctx, runtime, uid, { info: t(ctx, "x509EnterPassword"), username: outcome.user.username, x509: token, ...(handed && { handoff: handed.token }) });
      return true;
    }
    if (flow.config.bypassConfirmation) {
      events.record({
        realmId: realm.id, type: "LOGIN", clientId, userId: outcome.user.id, ipAddress: ctx.ip,
        details: { auth_method: "openid-connect", auth_type: "x509", username: auditIdentity(outcome.identity, flow.config, leaf), redirect_uri: String(details.params.redirect_uri), ...audit, ...(outcome.created && { user_created: "true" }) },
      });
      await finish(ctx, runtime, { login: { accountId: outcome.user.id, amr: ["x509"] } }, false);
      return true;
    }
    page(ctx, runtime, "x509-confirm", t(ctx, "doLogIn"), {
      action: `/realms/${encodeURIComponent(realm.name)}/login-actions/${uid}/x509`,
      csrf: csrfToken(runtime, uid),
      x509: token,
      handoff: handed?.token,
      subjectDN: leaf.dn("subject", "legacy"),
      username: outcome.user.username,
    });
    return true;
  }

  /**
   * The certificate login behind a pending token, run again on this request: the same certificate must be on the
   * connection and lead to the same user, who may still log in. Undefined (and a banner) otherwise.
   */
  async function confirmPending(ctx: Context, runtime: RealmRuntime, details: Details, uid: string, token: string | undefined, handoff: string | undefined) {
    const pending = readPending(runtime, uid, token);
    const chain = deps.certificates.chain(ctx.req) ?? (handoff !== undefined ? readHandoff(runtime, uid, handoff, ctx.cookies.get(HANDOFF_COOKIE)) : undefined);
    const flow = runtime.x509.browser;
    if (!pending || !chain || !flow.enabled || !flow.config || (chain[0] as Certificate).sha256 !== pending.certSha256) return undefined;
    const hint = typeof details.params.login_hint === "string" ? details.params.login_hint : undefined;
    const outcome = await loginWithCertificate(certificateContext(ctx, runtime, details), flow, chain, hint);
    if (!outcome.ok || outcome.user.id !== pending.userId) return undefined;
    const leaf = chain[0] as Certificate;
    return { outcome, audit: certificateAudit(leaf), username: auditIdentity(outcome.identity, flow.config, leaf) };
  }

  function consentPage(ctx: Context, runtime: RealmRuntime, details: Details, uid: string) {
    const clientId = String(details.params.client_id);
    const scopes = ((details.prompt.details.missingOIDCScope as string[] | undefined) ?? ["openid"]).filter((s) => s !== "openid");
    page(ctx, runtime, "consent", t(ctx, "consentTitle", clientId), {
      action: `/realms/${encodeURIComponent(runtime.realm.name)}/login-actions/${uid}/consent`,
      csrf: csrfToken(runtime, uid),
      clientName: clientId,
      scopes: scopes.length ? scopes : ["openid"],
    });
  }

  async function finish(ctx: Context, runtime: RealmRuntime, result: Parameters<RealmRuntime["provider"]["interactionResult"]>[2], merge: boolean) {
    const returnTo = await runtime.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  // On the certificate listener of another host name: read the certificate, hand it back to IDP_PUBLIC_URL.
  router.get("/certificate", async (ctx) => {
    const { realm, uid } = ctx.params as { realm: string; uid: string };
    const runtime = await registry.get(realm);
    if (!runtime?.realm.enabled) throw notFound("Realm does not exist", "realmNotFound");
    const state = typeof ctx.query.state === "string" && TOKEN_CHARS.test(ctx.query.state) ? ctx.query.state : undefined;
    if (!state || !TOKEN_CHARS.test(uid) || !deps.handoffOrigin || deps.publicUrl === undefined) throw new HttpError(400, "invalid_request", "login timed out", "loginTimeout");
    const chain = deps.certificates.chain(ctx.req) ?? [];
    ctx.status = 303;
    ctx.set("Cache-Control", "no-store");
    ctx.redirect(`${deps.publicUrl}/realms/${encodeURIComponent(runtime.realm.name)}/login-actions/${uid}?x509_handoff=${writeHandoff(runtime, uid, state, chain)}`);
  });

  router.get("/", async (ctx) => {
    const { runtime, details, uid } = await load(ctx);
    if (details.prompt.name === "login") {
      // This listener does not ask for certificates: the certificate step happens on the one that does, and its
      // pages lead back here (their forms post to the same origin; the login's end redirects to IDP_PUBLIC_URL).
      let handed: { chain: Certificate[]; token: string } | undefined;
      if (runtime.x509.browser.enabled && !deps.certificates.couldPresent(ctx.req)) {
        if (deps.certificateOrigin) {
          ctx.status = 303;
          ctx.redirect(`${deps.certificateOrigin}${ctx.originalUrl}`);
          return;
        }
        if (deps.handoffOrigin) {
          const token = typeof ctx.query.x509_handoff === "string" ? ctx.query.x509_handoff : undefined;
          if (token === undefined) {
            const state = randomBytes(24).toString("base64url");
            ctx.cookies.set(HANDOFF_COOKIE, state, { httpOnly: true, sameSite: "lax", path: `/realms/${encodeURIComponent(runtime.realm.name)}/login-actions/${uid}`, maxAge: HANDOFF_SECONDS * 1000, overwrite: true });
            ctx.status = 303;
            ctx.redirect(`${deps.handoffOrigin}/realms/${encodeURIComponent(runtime.realm.name)}/login-actions/${uid}/certificate?state=${state}`);
            return;
          }
          const chain = readHandoff(runtime, uid, token, ctx.cookies.get(HANDOFF_COOKIE));
          if (chain === undefined) deps.log.info({ realm: runtime.realm.name }, "a handed-back client certificate was refused (not this browser's, or stale)");
          handed = { chain: chain ?? [], token };
        }
      }
      if (await certificateStep(ctx, runtime, details, uid, handed)) return;
      return loginPage(ctx, runtime, uid, { username: String(details.params.login_hint ?? "") });
    }
    if (details.prompt.name === "consent") return consentPage(ctx, runtime, details, uid);
    throw new HttpError(400, "invalid_request", `unsupported prompt ${details.prompt.name}`);
  });

  router.post("/login", async (ctx) => {
    const { runtime, details, uid } = await load(ctx);
    const form = await readForm(ctx);
    if (details.prompt.name !== "login") throw new HttpError(400, "invalid_request", "this login step is already complete", "loginTimeout");
    const username = (form.username ?? "").trim();
    if (!csrfValid(runtime, uid, form.csrf)) return loginPage(ctx, runtime, uid, { errors: [t(ctx, "csrfMessage")], username, status: 400 });
    if (!username) return loginPage(ctx, runtime, uid, { errors: [t(ctx, "missingUsernameMessage")], status: 400 });
    if (!form.password) return loginPage(ctx, runtime, uid, { errors: [t(ctx, "missingPasswordMessage")], username, status: 400 });

    const realm = runtime.realm;
    const clientId = String(details.params.client_id);
    // Second-factor mode: the password completes a certificate login of the same user; never a password alone.
    const secondFactor = runtime.x509.browser.enabled && runtime.x509.browser.config?.requirePassword === true;
    let certificate: Awaited<ReturnType<typeof confirmPending>>;
    if (secondFactor) {
      certificate = await confirmPending(ctx, runtime, details, uid, form.x509, form.x509_handoff);
      if (!certificate) return loginPage(ctx, runtime, uid, { errors: [t(ctx, form.x509 ? "x509CertificateChanged" : "x509CertificateRequired")], status: 401 });
    }
    const outcome = await authenticatePassword({ users: runtime.users, guard }, realm, username, form.password, ctx.ip);
    if (outcome.kind === "failure") {
      events.record({
        realmId: realm.id, type: "LOGIN_ERROR", clientId, userId: outcome.user?.id, ipAddress: ctx.ip, error: outcome.error,
        details: { auth_method: "openid-connect", auth_type: "pwd", username, redirect_uri: String(details.params.redirect_uri) },
      });
      const lockout = lockoutEvent(outcome);
      if (lockout) events.record({ realmId: realm.id, clientId, ipAddress: ctx.ip, ...lockout });
      const key = outcome.error === "user_disabled" ? "accountDisabledMessage" : outcome.error === "directory_unavailable" ? "directoryUnavailableMessage" : "invalidUserMessage";
      const status = outcome.error === "directory_unavailable" ? 503 : 401;
      return loginPage(ctx, runtime, uid, { errors: [t(ctx, key)], username, status, ...(certificate && { x509: form.x509, ...(form.x509_handoff !== undefined && { handoff: form.x509_handoff }) }) });
    }
    if (certificate && certificate.outcome.user.id !== outcome.user.id) {
      events.record({
        realmId: realm.id, type: "LOGIN_ERROR", clientId, userId: outcome.user.id, ipAddress: ctx.ip, error: "invalid_user_credentials",
        details: { auth_method: "openid-connect", auth_type: "x509 pwd", reason: "PASSWORD_USER_MISMATCH", username, redirect_uri: String(details.params.redirect_uri), ...certificate.audit },
      });
      return loginPage(ctx, runtime, uid, { errors: [t(ctx, "x509PasswordUserMismatch")], status: 401 });
    }
    events.record({
      realmId: realm.id, type: "LOGIN", clientId, userId: outcome.user.id, ipAddress: ctx.ip,
      details: {
        auth_method: "openid-connect", auth_type: certificate ? "x509 pwd" : "pwd", username: outcome.user.username, redirect_uri: String(details.params.redirect_uri),
        ...(certificate && certificate.audit),
      },
    });
    await finish(ctx, runtime, { login: { accountId: outcome.user.id, amr: certificate ? ["x509", "pwd"] : ["pwd"] } }, false);
  });

  // The confirmation page's answer: Continue logs in (the same certificate still on the connection), Ignore goes on
  // to the password page.
  router.post("/x509", async (ctx) => {
    const { runtime, details, uid } = await load(ctx);
    const form = await readForm(ctx);
    if (details.prompt.name !== "login") throw new HttpError(400, "invalid_request", "this login step is already complete", "loginTimeout");
    if (!csrfValid(runtime, uid, form.csrf)) return loginPage(ctx, runtime, uid, { errors: [t(ctx, "csrfMessage")], status: 400 });
    if (form.cancel !== undefined) return loginPage(ctx, runtime, uid, { username: String(details.params.login_hint ?? "") });
    const confirmed = await confirmPending(ctx, runtime, details, uid, form.x509, form.x509_handoff);
    const realm = runtime.realm;
    const clientId = String(details.params.client_id);
    if (!confirmed) {
      events.record({
        realmId: realm.id, type: "LOGIN_ERROR", clientId, ipAddress: ctx.ip, error: "invalid_user_credentials",
        details: { auth_method: "x509", reason: "CERTIFICATE_CHANGED", redirect_uri: String(details.params.redirect_uri) },
      });
      return loginPage(ctx, runtime, uid, { errors: [t(ctx, "x509CertificateChanged")], status: 400 });
    }
    const { outcome, audit, username } = confirmed;
    events.record({
      realmId: realm.id, type: "LOGIN", clientId, userId: outcome.user.id, ipAddress: ctx.ip,
      details: { auth_method: "openid-connect", auth_type: "x509", username, redirect_uri: String(details.params.redirect_uri), ...audit, ...(outcome.created && { user_created: "true" }) },
    });
    await finish(ctx, runtime, { login: { accountId: outcome.user.id, amr: ["x509"] } }, false);
  });

  router.post("/consent", async (ctx) => {
    const { runtime, details, uid } = await load(ctx);
    const form = await readForm(ctx);
    if (details.prompt.name !== "consent") throw new HttpError(400, "invalid_request", "no consent is pending", "loginTimeout");
    if (!csrfValid(runtime, uid, form.csrf)) return consentPage(ctx, runtime, details, uid);
    if (form.accept !== "yes") {
      return finish(ctx, runtime, { error: "access_denied", error_description: "End-User denied consent" }, false);
    }
    const { provider } = runtime;
    const accountId = details.session?.accountId;
    if (!accountId) throw new HttpError(400, "invalid_request", "login timed out", "loginTimeout");
    const clientId = String(details.params.client_id);
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId });
    if (!grant) throw new HttpError(400, "invalid_request", "login timed out", "loginTimeout");
    const client = await provider.Client.find(clientId);
    if (!client) throw new HttpError(400, "invalid_request", "unknown client");
    grant.addOIDCScope(grantedScopes(client, String(details.params.scope ?? "")).join(" "));
    const grantId = await grant.save();
    await finish(ctx, runtime, { consent: { grantId } }, true);
  });

  // Cancel: a POST with the form's CSRF token, so another site cannot abort a login in progress.
  router.post("/abort", async (ctx) => {
    const { runtime, uid } = await load(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(runtime, uid, form.csrf)) return loginPage(ctx, runtime, uid, { errors: [t(ctx, "csrfMessage")], status: 400 });
    await finish(ctx, runtime, { error: "access_denied", error_description: "End-User aborted interaction" }, false);
  });

  return router;
}
