// The browser login: oidc-provider hands interactions to /realms/{realm}/login-actions/{uid}; these routes render
// the login and consent pages and report the outcome back to the provider. Forms are CSRF-protected twice: the
// interaction cookie is SameSite=Lax (a cross-site POST arrives without it) and each form carries an HMAC token
// bound to the interaction. Everything works without JavaScript.
import { createHmac, timingSafeEqual } from "node:crypto";
import Router from "@koa/router";
import type { Context } from "koa";
import { errors } from "oidc-provider";
import type { Prisma } from "../db/database.ts";
import type { EventRecorder } from "../events/event-store.ts";
import type { RealmRegistry, RealmRuntime } from "../oidc/registry.ts";
import { grantedScopes } from "../oidc/scopes.ts";
import { BruteForceGuard } from "../users/brute-force.ts";
import { authenticatePassword } from "../users/password-login.ts";
import { UserStore } from "../users/user-store.ts";
import { readForm } from "./body.ts";
import { HttpError, notFound } from "./errors.ts";
import { PAGE_HEADERS, type Views } from "../views.ts";

export interface InteractionDeps {
  db: Prisma;
  registry: RealmRegistry;
  views: Views;
  events: EventRecorder;
}

type Details = Awaited<ReturnType<RealmRuntime["provider"]["interactionDetails"]>>;

function csrfToken(runtime: RealmRuntime, uid: string): string {
  return createHmac("sha256", runtime.realm.cookieKeys[0] ?? "").update(`csrf:${uid}`).digest("base64url");
}

function csrfValid(runtime: RealmRuntime, uid: string, presented: string | undefined): boolean {
  const want = Buffer.from(csrfToken(runtime, uid));
  const got = Buffer.from(presented ?? "");
  return got.length === want.length && timingSafeEqual(got, want);
}

export function interactionRoutes(deps: InteractionDeps): Router {
  const { registry, views, events } = deps;
  const users = new UserStore(deps.db);
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

  function loginPage(ctx: Context, runtime: RealmRuntime, uid: string, extra: { errors?: string[]; username?: string; status?: number } = {}) {
    const base = `/realms/${encodeURIComponent(runtime.realm.name)}/login-actions/${uid}`;
    page(ctx, runtime, "login", t(ctx, "loginAccountTitle"), {
      action: `${base}/login`,
      abort: `${base}/abort`,
      csrf: csrfToken(runtime, uid),
      loginWithEmail: runtime.realm.loginWithEmailAllowed,
      errors: extra.errors ?? [],
      username: extra.username ?? "",
    }, extra.status);
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

  router.get("/", async (ctx) => {
    const { runtime, details, uid } = await load(ctx);
    if (details.prompt.name === "login") return loginPage(ctx, runtime, uid, { username: String(details.params.login_hint ?? "") });
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
    const outcome = await authenticatePassword({ users, guard }, realm, username, form.password, ctx.ip);
    if (outcome.kind === "failure") {
      events.record({
        realmId: realm.id, type: "LOGIN_ERROR", clientId, userId: outcome.user?.id, ipAddress: ctx.ip, error: outcome.error,
        details: { auth_method: "openid-connect", username, redirect_uri: String(details.params.redirect_uri) },
      });
      const key = outcome.error === "user_disabled" ? "accountDisabledMessage" : "invalidUserMessage";
      return loginPage(ctx, runtime, uid, { errors: [t(ctx, key)], username, status: 401 });
    }
    events.record({
      realmId: realm.id, type: "LOGIN", clientId, userId: outcome.user.id, ipAddress: ctx.ip,
      details: { auth_method: "openid-connect", auth_type: "pwd", username: outcome.user.username, redirect_uri: String(details.params.redirect_uri) },
    });
    await finish(ctx, runtime, { login: { accountId: outcome.user.id, amr: ["pwd"] } }, false);
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

  router.get("/abort", async (ctx) => {
    const { runtime } = await load(ctx);
    await finish(ctx, runtime, { error: "access_denied", error_description: "End-User aborted interaction" }, false);
  });

  return router;
}
