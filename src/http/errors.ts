// The one place that decides what an error looks like to a client: an OAuth-style JSON body
// ({"error", "error_description"}) for API callers, a rendered page for browsers. A client's mistake gets its 4xx; a
// database outage 503 temporarily_unavailable with Retry-After; anything unexpected becomes a generic 500 whose
// details go to the log only.
import type { Context, Next } from "koa";
import type { Logger } from "../log.ts";
import { ConflictError, NotFoundError, ValidationError } from "../admin/errors.ts";
import { PAGE_HEADERS, type Views } from "../views.ts";
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from "../db/unavailable.ts";

export class HttpError extends Error {
  readonly status: number;
  readonly error: string;
  /** Catalogue key for the browser page; the description is used when there is none. */
  readonly messageKey: string | undefined;

  constructor(status: number, error: string, description: string, messageKey?: string) {
    super(description);
    this.status = status;
    this.error = error;
    this.messageKey = messageKey;
  }
}

export const badRequest = (description: string) => new HttpError(400, "invalid_request", description, undefined);
export const notFound = (description: string, messageKey?: string) => new HttpError(404, "not_found", description, messageKey);
export const conflict = (description: string) => new HttpError(409, "conflict", description);

/** Browsers get pages; API paths and clients that prefer JSON get JSON. */
function wantsHtml(ctx: Context): boolean {
  if (ctx.path.startsWith("/admin") || ctx.path.startsWith("/health")) return false;
  return ctx.accepts("json", "html") === "html";
}

interface PrismaKnownError {
  code: string;
  meta?: { target?: unknown };
}
const isPrismaError = (e: unknown): e is PrismaKnownError =>
  typeof e === "object" && e !== null && typeof (e as PrismaKnownError).code === "string" && /^P\d{4}$/.test((e as PrismaKnownError).code);

/** The answer to a database outage (db/unavailable.ts): the client may try again; nothing was lost. */
export const UNAVAILABLE = { status: 503, error: "temporarily_unavailable", description: "The service is temporarily unavailable; try again later.", messageKey: "temporarilyUnavailable" } as const;

/** Maps anything thrown to a status, an OAuth error code and a safe description. */
export function describe(err: unknown): { status: number; error: string; description: string; messageKey?: string | undefined } {
  if (err instanceof HttpError) return { status: err.status, error: err.error, description: err.message, messageKey: err.messageKey };
  if (isDatabaseUnavailable(err)) return UNAVAILABLE;
  if (err instanceof ValidationError) return { status: 400, error: "invalid_request", description: err.message };
  if (err instanceof NotFoundError) return { status: 404, error: "not_found", description: err.message };
  if (err instanceof ConflictError) return { status: 409, error: "conflict", description: err.message };
  if (isPrismaError(err) && err.code === "P2002") return { status: 409, error: "conflict", description: "an object with the same unique name already exists" };
  if (isPrismaError(err) && err.code === "P2025") return { status: 404, error: "not_found", description: "not found" };
  const e = err as { status?: unknown; expose?: unknown; message?: unknown };
  // Koa's and http-errors' client errors (e.g. a malformed URL) carry a 4xx status and an exposable message.
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500 && e.expose === true) {
    return { status: e.status, error: e.status === 413 ? "request_too_large" : "invalid_request", description: String(e.message) };
  }
  return { status: 500, error: "server_error", description: "An internal server error has occurred.", messageKey: "internalServerError" };
}

/** `onUnavailable`: told of each request refused because the database did not answer (metrics). */
export function errorHandler(log: Logger, views: Views, onUnavailable?: () => void) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) throw notFound("Page not found", "pageNotFound");
    } catch (err) {
      const d = describe(err);
      if (d === UNAVAILABLE) onUnavailable?.();
      if (d.status === 503) log.warn({ err, method: ctx.method, path: ctx.path }, "request refused: the database does not answer");
      else if (d.status >= 500) log.error({ err, method: ctx.method, path: ctx.path }, "request failed");
      else log.debug({ method: ctx.method, path: ctx.path, status: d.status, error: d.error }, "client error");
      if (ctx.headerSent || !ctx.writable) return;
      ctx.status = d.status;
      // An error answer never redirects (a login that set its redirect before the failure).
      ctx.remove("Location");
      ctx.set("Cache-Control", "no-store");
      if (d.status === 503) ctx.set("Retry-After", String(RETRY_AFTER_SECONDS));
      if (wantsHtml(ctx)) {
        ctx.type = "html";
        ctx.set(PAGE_HEADERS);
        const lang = ctx.get("accept-language");
        const message = d.messageKey ? views.message(d.messageKey, lang) : d.description;
        ctx.body = views.render("error", { title: views.message("errorTitle", lang), message }, lang);
      } else {
        ctx.body = { error: d.error, error_description: d.description };
      }
    }
  };
}
