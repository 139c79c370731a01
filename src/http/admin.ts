// The admin REST API under /admin/realms, Keycloak's paths and JSON shapes. Callers authenticate with a bearer
// access token of an enabled `master` realm user holding the `admin` realm role, obtained from the public client
// `admin-cli` by direct grant (exactly as Keycloak's admin scripts do). A certificate-bound token (the certificate
// direct grant's) is accepted only with its certificate (http/bearer.ts, RFC 8705 §3).
import Router from "@koa/router";
import type { Context, Next } from "koa";
import type { Prisma } from "../db/database.ts";
import type { EventStore } from "../events/event-store.ts";
import { createClient, deleteClient, getClient, listClients, regenerateSecret, updateClient } from "../admin/clients.ts";
import { createRealm, deleteRealm, getRealm, listRealms, MASTER_REALM, realmId, updateRealm, type AdminDeps } from "../admin/realms.ts";
import { createUser, deleteUser, getUser, listUsers, setPassword, updateUser } from "../admin/users.ts";
import { getX509, putX509 } from "../admin/x509.ts";
import { bruteForceStatus, clearAllBruteForce, clearBruteForceForUser } from "../admin/attack-detection.ts";
import { deleteLdap, getLdap, putLdap, testLdap } from "../admin/ldap.ts";
import type { LdapProviders } from "../ldap/providers.ts";
import type { RealmRegistry } from "../oidc/registry.ts";
import type { RevocationChecker } from "../x509/revocation/checker.ts";
import { UserStore } from "../users/user-store.ts";
import type { SecretBox } from "../config/secret-box.ts";
import { authenticateBearer } from "./bearer.ts";
import { readJson } from "./body.ts";
import type { ClientCertificates } from "./client-certificate.ts";
import { badRequest, HttpError } from "./errors.ts";

export interface AdminRouteDeps {
  db: Prisma;
  /** Base of the Location headers (IDP_PUBLIC_URL). */
  publicUrl: string;
  registry: RealmRegistry;
  events: EventStore;
  revocation: RevocationChecker;
  ldap: LdapProviders;
  /** The request's client certificate, for certificate-bound tokens. */
  certificates: ClientCertificates;
}

function adminAuth(deps: AdminRouteDeps) {
  const users = new UserStore(deps.db);
  return async (ctx: Context, next: Next) => {
    const token = await authenticateBearer(deps, MASTER_REALM, ctx);
    const master = await deps.registry.get(MASTER_REALM);
    const user = master ? await users.findById(master.realm.id, token.accountId) : undefined;
    if (!user?.enabled || !user.realmRoles.includes("admin")) {
      throw new HttpError(403, "forbidden", "the token's user is not an administrator");
    }
    ctx.state.admin = user.username;
    await next();
  };
}

const int = (v: unknown, name: string, max = 1_000_000): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !/^\d+$/.test(v) || n > max) throw badRequest(`${name} must be a non-negative integer`);
  return n;
};
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const bool = (v: unknown): boolean | undefined => (v === "true" ? true : v === "false" ? false : undefined);
const date = (v: unknown, name: string, endOfDay = false): Date | undefined => {
  if (typeof v !== "string") return undefined;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T${endOfDay ? "23:59:59.999" : "00:00:00"}Z` : v);
  if (Number.isNaN(d.getTime())) throw badRequest(`${name} must be a date (yyyy-MM-dd) or an ISO timestamp`);
  return d;
};

export function adminRoutes(deps: AdminRouteDeps): Router {
  const admin: AdminDeps & { secrets: SecretBox; ldap: LdapProviders } = {
    db: deps.db, changed: (realm) => deps.registry.changed(realm), secrets: deps.ldap.secrets, ldap: deps.ldap,
  };
  const router = new Router({ prefix: "/admin/realms" });
  router.use(adminAuth(deps));

  const created = (ctx: Context, location: string, body?: unknown) => {
    ctx.status = 201;
    ctx.set("Location", location);
    if (body !== undefined) ctx.body = body;
  };
  const noContent = (ctx: Context) => {
    ctx.status = 204;
  };
  // Route parameters are present whenever the route matched.
  const p = (ctx: Context) => ctx.params as { realm: string; id: string };

  router.get("/", async (ctx) => void (ctx.body = await listRealms(admin)));
  router.post("/", async (ctx) => {
    const summary = await createRealm(admin, await readJson(ctx));
    created(ctx, `${deps.publicUrl}/admin/realms/${encodeURIComponent(summary.realm)}`, summary);
  });
  router.get("/:realm", async (ctx) => void (ctx.body = await getRealm(admin, p(ctx).realm)));
  router.put("/:realm", async (ctx) => {
    await updateRealm(admin, p(ctx).realm, await readJson(ctx));
    noContent(ctx);
  });
  router.delete("/:realm", async (ctx) => {
    await deleteRealm(admin, p(ctx).realm);
    noContent(ctx);
  });

  router.get("/:realm/clients", async (ctx) => {
    ctx.body = await listClients(admin, p(ctx).realm, { ...(str(ctx.query.clientId) !== undefined && { clientId: str(ctx.query.clientId) }) });
  });
  router.post("/:realm/clients", async (ctx) => {
    const out = await createClient(admin, p(ctx).realm, await readJson(ctx));
    created(ctx, `${deps.publicUrl}/admin/realms/${encodeURIComponent(p(ctx).realm)}/clients/${out.id}`, out);
  });
  router.get("/:realm/clients/:id", async (ctx) => void (ctx.body = await getClient(admin, p(ctx).realm, p(ctx).id)));
  router.put("/:realm/clients/:id", async (ctx) => {
    await updateClient(admin, p(ctx).realm, p(ctx).id, await readJson(ctx));
    noContent(ctx);
  });
  router.delete("/:realm/clients/:id", async (ctx) => {
    await deleteClient(admin, p(ctx).realm, p(ctx).id);
    noContent(ctx);
  });
  router.post("/:realm/clients/:id/client-secret", async (ctx) => {
    ctx.body = await regenerateSecret(admin, p(ctx).realm, p(ctx).id);
  });

  router.get("/:realm/users", async (ctx) => {
    const q = ctx.query;
    ctx.body = await listUsers(admin, p(ctx).realm, {
      ...(str(q.username) !== undefined && { username: str(q.username) }),
      ...(str(q.email) !== undefined && { email: str(q.email) }),
      ...(str(q.search) !== undefined && { search: str(q.search) }),
      ...(bool(q.exact) !== undefined && { exact: bool(q.exact) }),
      ...(q.first !== undefined && { first: int(q.first, "first") }),
      ...(q.max !== undefined && { max: int(q.max, "max", 1000) }),
    });
  });
  router.post("/:realm/users", async (ctx) => {
    const user = await createUser(admin, p(ctx).realm, await readJson(ctx));
    created(ctx, `${deps.publicUrl}/admin/realms/${encodeURIComponent(p(ctx).realm)}/users/${user.id}`);
  });
  router.get("/:realm/users/:id", async (ctx) => void (ctx.body = await getUser(admin, p(ctx).realm, p(ctx).id)));
  router.put("/:realm/users/:id", async (ctx) => {
    await updateUser(admin, p(ctx).realm, p(ctx).id, await readJson(ctx));
    noContent(ctx);
  });
  router.delete("/:realm/users/:id", async (ctx) => {
    await deleteUser(admin, p(ctx).realm, p(ctx).id);
    noContent(ctx);
  });
  router.put("/:realm/users/:id/reset-password", async (ctx) => {
    await setPassword(admin, p(ctx).realm, p(ctx).id, await readJson(ctx));
    noContent(ctx);
  });

  // Keycloak's attack detection: an account's brute-force state, and clearing one account or the whole realm.
  router.get("/:realm/attack-detection/brute-force/users/:id", async (ctx) => void (ctx.body = await bruteForceStatus(admin, p(ctx).realm, p(ctx).id)));
  router.delete("/:realm/attack-detection/brute-force/users/:id", async (ctx) => {
    await clearBruteForceForUser(admin, p(ctx).realm, p(ctx).id);
    noContent(ctx);
  });
  router.delete("/:realm/attack-detection/brute-force/users", async (ctx) => {
    await clearAllBruteForce(admin, p(ctx).realm);
    noContent(ctx);
  });

  router.get("/:realm/x509", async (ctx) => void (ctx.body = await getX509(admin, p(ctx).realm)));
  router.put("/:realm/x509", async (ctx) => void (ctx.body = await putX509(admin, p(ctx).realm, await readJson(ctx))));

  router.get("/:realm/ldap", async (ctx) => void (ctx.body = await getLdap(admin, p(ctx).realm)));
  router.put("/:realm/ldap", async (ctx) => void (ctx.body = await putLdap(admin, p(ctx).realm, await readJson(ctx))));
  router.delete("/:realm/ldap", async (ctx) => {
    await deleteLdap(admin, p(ctx).realm);
    noContent(ctx);
  });
  router.post("/:realm/ldap/test", async (ctx) => void (ctx.body = await testLdap(admin, p(ctx).realm)));

  // Keycloak 26.2's endpoint. The CRL cache is shared by the realms of this process, so all of it is cleared (the
  // realm must exist); the next login reloads what it needs.
  router.post("/:realm/clear-crl-cache", async (ctx) => {
    await realmId(admin, p(ctx).realm);
    deps.revocation.crlCache.clear();
    noContent(ctx);
  });

  router.get("/:realm/events", async (ctx) => {
    const q = ctx.query;
    const types = ([] as string[]).concat(q.type ?? []).flatMap((t) => t.split(",")).filter(Boolean);
    ctx.body = await deps.events.query(await realmId(admin, p(ctx).realm), {
      ...(types.length && { types }),
      ...(str(q.client) !== undefined && { clientId: str(q.client) }),
      ...(str(q.user) !== undefined && { userId: str(q.user) }),
      ...(str(q.ipAddress) !== undefined && { ipAddress: str(q.ipAddress) }),
      ...(q.dateFrom !== undefined && { from: date(q.dateFrom, "dateFrom") }),
      ...(q.dateTo !== undefined && { to: date(q.dateTo, "dateTo", true) }),
      ...(q.first !== undefined && { first: int(q.first, "first") }),
      ...(q.max !== undefined && { max: int(q.max, "max", 1000) }),
    });
  });
  return router;
}
