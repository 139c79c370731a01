// /health/live: the process answers. /health/ready: the database is reachable, every migration is applied, and the
// process is not shutting down.
// Same JSON shape as Keycloak's health endpoints. LDAP is a warning, not a reason to take the instance out of
// service (local users still log in): the "ldap" check lists each federated realm's last outcome, and `warnings`
// names the directories that are failing.
import Router from "@koa/router";
import type { Database } from "../db/database.ts";
import type { LdapProviders } from "../ldap/providers.ts";
import type { Lifecycle } from "./lifecycle.ts";

export function healthRoutes(db: Database, ldap?: LdapProviders, lifecycle?: Lifecycle): Router {
  const router = new Router({ prefix: "/health" });
  router.get("/live", (ctx) => {
    ctx.set("Cache-Control", "no-store");
    ctx.body = { status: "UP", checks: [] };
  });
  router.get("/ready", async (ctx) => {
    ctx.set("Cache-Control", "no-store");
    // A node that is shutting down takes itself out of rotation at once (its accepted requests still finish).
    if (lifecycle?.draining) {
      ctx.status = 503;
      ctx.body = { status: "DOWN", checks: [{ name: "shutdown", status: "DOWN", data: { draining: true } }] };
      return;
    }
    let check: { name: string; status: "UP" | "DOWN"; data?: Record<string, unknown> };
    try {
      const { pending, applied } = await db.status();
      check = pending.length
        ? { name: "database", status: "DOWN", data: { pending } }
        : { name: "database", status: "UP", data: { provider: db.provider, migrations: applied.length } };
    } catch {
      check = { name: "database", status: "DOWN", data: { error: "database unreachable" } };
    }
    const checks: { name: string; status: "UP" | "DOWN"; data?: Record<string, unknown> }[] = [check];
    const directories = ldap?.status() ?? [];
    // Servers and error texts stay in the log and the LDAP_UNAVAILABLE event: this endpoint answers anyone.
    const warnings = directories.filter((d) => d.status === "DOWN").map((d) => `realm ${d.realm}: LDAP unavailable since ${d.since}`);
    const realms = directories.map((d) => ({ realm: d.realm, status: d.status, since: d.since }));
    if (directories.length) checks.push({ name: "ldap", status: "UP", data: { realms, ...(warnings.length && { warnings }) } });
    ctx.status = check.status === "UP" ? 200 : 503;
    ctx.body = { status: check.status, checks, ...(warnings.length && { warnings }) };
  });
  return router;
}
