// The Koa application: error mapping, security headers, static resources, health, admin API, interaction pages,
// and the per-realm OIDC providers at /realms/{realm}/… (Keycloak's URLs).
import fs from "node:fs";
import path from "node:path";
import Koa, { type Context, type Next } from "koa";
import { SETTLE_TIMEOUT_MS, type DurableEvents } from "../events/event-store.ts";
import type { Services } from "../services.ts";
import type { Settings } from "../config/env.ts";
import { adminRoutes } from "./admin.ts";
import { PROVIDER_BODY_LIMIT } from "./body.ts";
import { errorHandler, HttpError, notFound } from "./errors.ts";
import { requestGate } from "./forwarded.ts";
import { healthRoutes } from "./health.ts";
import { metricsRoute } from "./metrics.ts";
import { pinOrigin } from "./public-origin.ts";
import { interactionRoutes } from "./interactions.ts";
import { VIEWS_DIR } from "../views.ts";


async function securityHeaders(ctx: Context, next: Next) {
  ctx.set("X-Content-Type-Options", "nosniff");
  ctx.set("Referrer-Policy", "no-referrer");
  ctx.set("X-Frame-Options", "DENY");
  if (ctx.secure) ctx.set("Strict-Transport-Security", "max-age=31536000");
  await next();
}

function staticResources() {
  const css = fs.readFileSync(path.join(VIEWS_DIR, "static", "idp.css"));
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== "/resources/idp.css" || (ctx.method !== "GET" && ctx.method !== "HEAD")) return next();
    ctx.type = "text/css";
    ctx.set("Cache-Control", "public, max-age=3600");
    ctx.body = css;
  };
}

/**
 * Each request's latency by route template (metrics) and a debug line, once its answer is sent: realms' requests are
 * answered by their provider after this middleware's next() has returned. 499: the client closed first (nginx's code).
 */
function requestLog(services: Services) {
  const { log, metrics } = services;
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    const { method, path, res } = ctx; // path before realmDispatch rewrites the URL
    res.once("close", () => {
      const status = res.writableFinished ? res.statusCode : 499;
      const seconds = (performance.now() - started) / 1000;
      metrics.request(method, path, status, seconds);
      if (log.isLevelEnabled("debug")) log.debug({ method, path, status, ms: Math.round(seconds * 1000) }, "request");
    });
    await next();
  };
}

/**
 * A request that recorded events (a login, a failed one) is answered only once they are stored: nothing acknowledged
 * is lost. Requests handed to a realm's provider wait there (oidc/provider.ts), before the provider answers.
 */
function durableEvents(events: DurableEvents) {
  return async (ctx: Context, next: Next) => {
    const mark = events.sequence;
    await next();
    if (ctx.respond !== false && events.sequence > mark) await events.settle(SETTLE_TIMEOUT_MS);
  };
}

const REALM_PATH = /^\/realms\/([^/]+)(\/.*)?$/;

/** The OIDC endpoints (token, userinfo, auth…): handed to the realm's provider before any other router is tried. */
const PROTOCOL_PATH = /^\/realms\/[^/]+\/protocol\/openid-connect\//;

/**
 * Hands /realms/{realm}/… to that realm's provider, with the path rewritten to be relative to its issuer. `only`:
 * just the paths it matches (the rest goes on to the next middleware).
 */
function realmDispatch(services: Services, only?: RegExp) {
  return async (ctx: Context, next: Next) => {
    if (only && !only.test(ctx.path)) return next();
    const m = REALM_PATH.exec(ctx.path);
    if (!m?.[1]) return next();
    let name: string;
    try {
      name = decodeURIComponent(m[1]);
    } catch {
      throw notFound("Realm does not exist", "realmNotFound");
    }
    const runtime = await services.registry.get(name);
    if (!runtime?.realm.enabled) throw notFound("Realm does not exist", "realmNotFound");
    // oidc-provider's own body limit: larger requests are refused with 413 before they reach it.
    if (Number(ctx.get("content-length") || 0) > PROVIDER_BODY_LIMIT) {
      throw new HttpError(413, "request_too_large", `request body exceeds ${PROVIDER_BODY_LIMIT} bytes`, "requestTooLarge");
    }
    // oidc-provider derives its mount path from originalUrl minus url; without it discovery loses the prefix.
    const req = ctx.req as typeof ctx.req & { originalUrl?: string };
    req.originalUrl = ctx.req.url;
    ctx.req.url = (m[2] ?? "/") + (ctx.querystring ? `?${ctx.querystring}` : "");
    ctx.respond = false;
    await runtime.handle(ctx.req, ctx.res);
  };
}

export function createApp(services: Services): Koa {
  // X-Forwarded-* count only from trusted proxies: the request gate, first of all, removes everyone else's.
  const app = new Koa({ proxy: true });
  app.silent = true; // errors are logged by errorHandler, once
  pinOrigin(app, services.settings.publicUrl);
  const gate = requestGate(services.settings.trustedProxies, services.certificates.headers, services.log);
  app.use((ctx, next) => {
    gate(ctx.req);
    return next();
  });
  app.use(requestLog(services));
  app.use(errorHandler(services.log, services.views, () => services.metrics.databaseUnavailable()));
  app.use(durableEvents(services.events));
  app.use(securityHeaders);
  // The token endpoint is the busiest path: no other router is matched before it.
  app.use(realmDispatch(services, PROTOCOL_PATH));
  app.use(staticResources());
  app.use(metricsRoute(services.metrics, services.settings.metrics.token));
  const health = healthRoutes(services.db, services.ldap, services.lifecycle);
  app.use(health.routes());
  const admin = adminRoutes({ db: services.db.prisma, publicUrl: services.settings.publicUrl, registry: services.registry, events: services.events, revocation: services.revocation, ldap: services.ldap, certificates: services.certificates });
  app.use(admin.routes());
  app.use(admin.allowedMethods({ throw: true }));
  const interactions = interactionRoutes({ db: services.db.prisma, registry: services.registry, views: services.views, events: services.events, revocation: services.revocation, log: services.log, certificates: services.certificates, certificateOrigin: certificateOrigin(services.settings), handoffOrigin: handoffOrigin(services.settings), publicUrl: services.settings.publicUrl });
  app.use(interactions.routes());
  app.use(interactions.allowedMethods({ throw: true }));
  app.use(realmDispatch(services));
  return app;
}

/**
 * Where the browser's certificate login goes when the main port does not ask for certificates: the certificate
 * listener, if it is on IDP_PUBLIC_URL's host name (cookies are shared across ports, not across host names).
 */
export function certificateOrigin(settings: Settings): string | undefined {
  if (settings.mtlsPublicUrl === undefined) return undefined;
  return new URL(settings.mtlsPublicUrl).hostname === new URL(settings.publicUrl).hostname ? settings.mtlsPublicUrl : undefined;
}

/** The certificate listener's origin when it has a host name of its own: it reads the certificate and hands it back. */
export function handoffOrigin(settings: Settings): string | undefined {
  return settings.mtlsPublicUrl !== undefined && certificateOrigin(settings) === undefined ? settings.mtlsPublicUrl : undefined;
}
