// /health/live: the process answers. /health/ready: the database is reachable and every migration is applied.
// Same JSON shape as Keycloak's health endpoints.
import Router from "@koa/router";
import type { Database } from "../db/database.ts";

export function healthRoutes(db: Database): Router {
  const router = new Router({ prefix: "/health" });
  router.get("/live", (ctx) => {
    ctx.set("Cache-Control", "no-store");
    ctx.body = { status: "UP", checks: [] };
  });
  router.get("/ready", async (ctx) => {
    ctx.set("Cache-Control", "no-store");
    let check: { name: string; status: "UP" | "DOWN"; data?: Record<string, unknown> };
    try {
      const { pending, applied } = await db.status();
      check = pending.length
        ? { name: "database", status: "DOWN", data: { pending } }
        : { name: "database", status: "UP", data: { provider: db.provider, migrations: applied.length } };
    } catch {
      check = { name: "database", status: "DOWN", data: { error: "database unreachable" } };
    }
    ctx.status = check.status === "UP" ? 200 : 503;
    ctx.body = { status: check.status, checks: [check] };
  });
  return router;
}
