// GET /metrics (Prometheus text format). Served on IDP_METRICS_PORT, a plain HTTP port of its own for the monitoring
// network, and on the main ports only when IDP_METRICS_TOKEN is set: realm names and login counts are not for anyone
// who can reach the login page. With a token, every scrape must send it (Authorization: Bearer …, Prometheus's
// `authorization` setting), on either port.
import crypto from "node:crypto";
import http from "node:http";
import type { Context, Next } from "koa";
import type { Metrics } from "../metrics.ts";

export const METRICS_PATH = "/metrics";

const digest = (s: string) => crypto.createHash("sha256").update(s).digest();

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The answer to a request for /metrics, given its method and Authorization header. */
export function metricsAnswerer(metrics: Metrics, token: string | undefined): (method: string, authorization: string | undefined) => Promise<Answer> {
  const expected = token === undefined ? undefined : digest(token);
  return async (method, authorization): Promise<Answer> => {
    if (method !== "GET" && method !== "HEAD") return { status: 405, headers: { allow: "GET, HEAD", "content-type": "text/plain" }, body: "Method Not Allowed\n" };
    if (expected) {
      const given = /^Bearer +(\S+)$/i.exec(authorization ?? "")?.[1];
      // Compared as digests: in constant time, whatever the length.
      if (!given || !crypto.timingSafeEqual(digest(given), expected)) {
        return { status: 401, headers: { "www-authenticate": 'Bearer realm="metrics"', "content-type": "text/plain", "cache-control": "no-store" }, body: "Unauthorized\n" };
      }
    }
    const { contentType, body } = await metrics.text();
    return { status: 200, headers: { "content-type": contentType, "cache-control": "no-store" }, body };
  };
}

/** /metrics on the main ports (only with a token; else it is not there). */
export function metricsRoute(metrics: Metrics, token: string | undefined) {
  const answer = token === undefined ? undefined : metricsAnswerer(metrics, token);
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== METRICS_PATH || !answer) return next();
    const a = await answer(ctx.method, ctx.get("authorization") || undefined);
    ctx.status = a.status;
    ctx.set(a.headers);
    ctx.body = a.body;
  };
}

/** The plain HTTP server behind IDP_METRICS_PORT: /metrics and nothing else. */
export function metricsServer(metrics: Metrics, token: string | undefined): http.Server {
  const answer = metricsAnswerer(metrics, token);
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const reply = path === METRICS_PATH
      ? answer(req.method ?? "", req.headers.authorization)
      : Promise.resolve({ status: 404, headers: { "content-type": "text/plain" }, body: "Not Found\n" });
    reply.then((a) => {
      res.writeHead(a.status, a.headers);
      res.end(req.method === "HEAD" ? undefined : a.body);
    }, () => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("metrics could not be collected\n");
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
