// What an operator graphs and alerts on, in Prometheus's text format (prom-client), one registry per process:
// logins and their errors, token requests, request latency, revocation sources, LDAP, the database, the audit log's
// queue, and the process. Where Keycloak has a metric for the same thing its name and labels are kept
// (keycloak_user_events_total; http_server_requests_seconds, Quarkus's name), so that dashboards carry over.
//
// Every label value comes from a bounded set: realm names exist (they are known to the registry before any event),
// routes are templates, error and reason names must look like names, and anything else is "other". A client can
// make counters move, never make new series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { NewEvent } from "./events/event-store.ts";

/** What the gauges read when scraped. */
export interface MetricSources {
  events: () => { readonly pending: number; readonly storedCount: number; readonly droppedCount: number; readonly retryCount: number };
  database: () => DatabaseStats;
  ldap: () => readonly { realm: string; status: "UP" | "DOWN" }[];
}

export interface DatabaseStats {
  /** Connections open, of them idle, requests waiting for one, and the most there may be. */
  open: number;
  idle: number;
  waiting: number;
  max: number;
  /** SQLite only: the write-ahead log's size. */
  walBytes?: number;
}

export type RevocationSource = "crl" | "ocsp";
export type LoginFlow = "browser" | "direct_grant" | "client";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FETCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** From a minute to a week: how old the CRL or OCSP answer a check relied on was. */
const AGE_BUCKETS = [60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400];

/** The grant types x509-idp serves; a token request with another one counts as "other". */
const GRANT_TYPES = new Set(["authorization_code", "refresh_token", "client_credentials", "password", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange", "urn:openid:params:grant-type:ciba"]);

/** An error or reason name as a label: names only (Keycloak's and OAuth's are), anything else "other". */
const named = (v: unknown, pattern: RegExp): string => (typeof v === "string" ? (pattern.test(v) ? v : "other") : "");
const ERROR_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const REASON_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Keycloak's label for a response status class (Micrometer's "outcome"). */
function outcomeOf(status: number): string {
  if (status < 200) return "INFORMATIONAL";
  if (status < 300) return "SUCCESS";
  if (status < 400) return "REDIRECTION";
  if (status < 500) return "CLIENT_ERROR";
  return "SERVER_ERROR";
}

const REALM_ROUTES = new Set([
  "/protocol/openid-connect/token", "/protocol/openid-connect/token/introspect", "/protocol/openid-connect/auth", "/protocol/openid-connect/userinfo",
  "/protocol/openid-connect/certs", "/protocol/openid-connect/logout", "/protocol/openid-connect/revoke", "/protocol/openid-connect/ext/par/request",
  "/.well-known/openid-configuration", "/protocol/openid-connect/logout/confirm", "",
]);
const LOGIN_ACTIONS = /^\/login-actions\/[^/]+(\/(?:login|x509|consent|abort))?\/?$/;

/** A request path as a route template (Micrometer's "uri"): /realms/acme/protocol/openid-connect/token → /realms/{realm}/protocol/openid-connect/token. */
export function routeOf(path: string): string {
  if (path.startsWith("/realms/")) {
    const slash = path.indexOf("/", 8);
    const rest = slash < 0 ? "" : path.slice(slash).replace(/\/$/, "");
    if (REALM_ROUTES.has(rest)) return `/realms/{realm}${rest}`;
    const actions = LOGIN_ACTIONS.exec(rest);
    if (actions) return `/realms/{realm}/login-actions/{id}${actions[1] ?? ""}`;
    return "/realms/{realm}/*";
  }
  if (path.startsWith("/admin/")) return "/admin/*";
  if (path === "/health" || path === "/health/live" || path === "/health/ready") return path;
  if (path === "/metrics") return path;
  if (path.startsWith("/resources/")) return "/resources/*";
  return "other";
}

export class Metrics {
  readonly registry = new Registry();
  readonly #realmNames = new Map<string, string>();
  #processCollected = false;

  readonly #userEvents = new Counter({ name: "keycloak_user_events_total", help: "Keycloak user events (Keycloak's name and default tags: realm, event, error)", labelNames: ["realm", "event", "error"], registers: [this.registry] });
  readonly #logins = new Counter({
    name: "x509idp_logins_total", help: "Logins and failed logins by realm, flow (browser, direct_grant, client), method (certificate, password, client) and reason (Keycloak's event error name; empty on success)",
    labelNames: ["realm", "flow", "method", "outcome", "reason"], registers: [this.registry],
  });
  readonly #certificateFailures = new Counter({ name: "x509idp_certificate_login_failures_total", help: "Certificate logins refused, by x509-idp's reason code (CERT_REVOKED, CERT_EXPIRED, OCSP_UNAVAILABLE…)", labelNames: ["realm", "flow", "code"], registers: [this.registry] });
  readonly #tokenRequests = new Counter({ name: "x509idp_token_requests_total", help: "Token endpoint requests by grant type and outcome (success or the OAuth error)", labelNames: ["realm", "grant_type", "outcome"], registers: [this.registry] });
  readonly #requests = new Histogram({ name: "http_server_requests_seconds", help: "HTTP requests by method, route template (uri), status and outcome, until the response is sent", labelNames: ["method", "uri", "status", "outcome"], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #refusedConnections = new Counter({ name: "x509idp_connections_refused_total", help: "Connections closed at once because their address held IDP_MAX_CONNECTIONS_PER_ADDRESS", registers: [this.registry] });
  readonly #revocationFetches = new Counter({ name: "x509idp_revocation_fetches_total", help: "CRL downloads and OCSP requests, by outcome (ok, failed)", labelNames: ["source", "outcome"], registers: [this.registry] });
  readonly #revocationFetchSeconds = new Histogram({ name: "x509idp_revocation_fetch_seconds", help: "How long a CRL download or an OCSP request took", labelNames: ["source"], buckets: FETCH_BUCKETS, registers: [this.registry] });
  readonly #revocationCache = new Counter({ name: "x509idp_revocation_cache_total", help: "Revocation lookups by cache result: hit, miss (fetched), remembered_failure (a source that failed recently, not asked again)", labelNames: ["source", "result"], registers: [this.registry] });
  readonly #revocationAge = new Histogram({ name: "x509idp_revocation_answer_age_seconds", help: "Age (since thisUpdate) of the CRL or OCSP answer a check relied on", labelNames: ["source"], buckets: AGE_BUCKETS, registers: [this.registry] });
  readonly #ldapSeconds = new Histogram({ name: "x509idp_ldap_request_seconds", help: "LDAP lookups and binds per realm, by outcome (ok, unavailable)", labelNames: ["realm", "outcome"], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #databaseUnavailable = new Counter({ name: "x509idp_database_unavailable_total", help: "Requests answered 503 because the database did not answer", registers: [this.registry] });

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    new Gauge({
      name: "x509idp_ldap_up", help: "1 when the realm's LDAP directory answered its last request, 0 when it failed", labelNames: ["realm"], registers,
      // Several workers (cli/workers.ts): down when any of them found it down.
      aggregator: "min",
      collect() {
        this.reset();
        for (const s of sources.ldap()) this.set({ realm: s.realm }, s.status === "UP" ? 1 : 0);
      },
    });
    new Gauge({
      name: "x509idp_db_connections", help: "Database connections: open, idle, max; and requests waiting for one (waiting)", labelNames: ["state"], registers,
      collect() {
        const d = sources.database();
        for (const [state, n] of [["open", d.open], ["idle", d.idle], ["waiting", d.waiting], ["max", d.max]] as const) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "x509idp_sqlite_wal_bytes", help: "Size of the SQLite write-ahead log (SQLite only)", registers, aggregator: "max",
      collect() {
        const wal = sources.database().walBytes;
        if (wal === undefined) this.reset();
        else this.set(wal);
      },
    });
    new Gauge({ name: "x509idp_event_queue_depth", help: "Audit events recorded and not yet stored", registers, collect() { this.set(sources.events().pending); } });
    const fromEvents = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    fromEvents("x509idp_events_stored_total", "Audit events stored", () => sources.events().storedCount);
    fromEvents("x509idp_events_dropped_total", "Audit events dropped because the database refused them on their merits (their realm was deleted)", () => sources.events().droppedCount);
    fromEvents("x509idp_event_write_retries_total", "Audit event batches tried again because the database did not answer", () => sources.events().retryCount);
  }

  /** Node's and the process's own metrics (CPU, memory, event loop lag, GC): for the serving process only. */
  collectProcessMetrics(): void {
    if (this.#processCollected) return;
    this.#processCollected = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Names a realm for the labels (events carry the realm's id). */
  realm(id: string, name: string): void {
    this.#realmNames.set(id, name);
  }

  /** An audit event was recorded: Keycloak's user event counter, and the login families. */
  event(e: NewEvent): void {
    const realm = this.#realmNames.get(e.realmId) ?? e.realmId;
    const error = named(e.error, ERROR_NAME);
    this.#userEvents.inc({ realm, event: e.type.toLowerCase(), error });
    const flow = flowOf(e);
    if (!flow) return;
    const failed = e.type.endsWith("_ERROR");
    const method = flow === "client" ? "client" : loginMethod(e);
    this.#logins.inc({ realm, flow, method, outcome: failed ? "error" : "success", reason: failed ? error : "" });
    if (failed && method === "certificate" && typeof e.details?.reason === "string") this.#certificateFailures.inc({ realm, flow, code: named(e.details.reason, REASON_NAME) });
  }

  tokenRequest(realm: string, grantType: unknown, error?: string): void {
    const grant = typeof grantType === "string" && GRANT_TYPES.has(grantType) ? grantType : "other";
    this.#tokenRequests.inc({ realm, grant_type: grant, outcome: error === undefined ? "success" : named(error, ERROR_NAME) });
  }

  request(method: string, path: string, status: number, seconds: number): void {
    const m = /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS)$/.test(method) ? method : "other";
    this.#requests.observe({ method: m, uri: routeOf(path), status: String(status), outcome: outcomeOf(status) }, seconds);
  }

  connectionRefused(): void {
    this.#refusedConnections.inc();
  }

  databaseUnavailable(): void {
    this.#databaseUnavailable.inc();
  }

  revocationFetch(source: RevocationSource, ok: boolean, seconds: number): void {
    this.#revocationFetches.inc({ source, outcome: ok ? "ok" : "failed" });
    this.#revocationFetchSeconds.observe({ source }, seconds);
  }

  revocationLookup(source: RevocationSource, result: "hit" | "miss" | "remembered_failure"): void {
    this.#revocationCache.inc({ source, result });
  }

  revocationAnswerAge(source: RevocationSource, thisUpdate: number, now: number): void {
    this.#revocationAge.observe({ source }, Math.max(0, (now - thisUpdate) / 1000));
  }

  ldapRequest(realm: string, ok: boolean, seconds: number): void {
    this.#ldapSeconds.observe({ realm, outcome: ok ? "ok" : "unavailable" }, seconds);
  }

  #pool: (() => Promise<{ contentType: string; body: string }>) | undefined;

  /** In a pool of workers (cli/workers.ts), GET /metrics reports every worker's metrics added up, by `gather`. */
  pooled(gather: () => Promise<{ contentType: string; body: string }>): void {
    this.#pool = gather;
  }

  /** The exposition, for GET /metrics. */
  async text(): Promise<{ contentType: string; body: string }> {
    if (this.#pool) return this.#pool();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Which login flow an event belongs to, if it is a login (Keycloak: LOGIN, CLIENT_LOGIN and their errors). */
function flowOf(e: NewEvent): LoginFlow | undefined {
  if (e.type === "CLIENT_LOGIN" || e.type === "CLIENT_LOGIN_ERROR") return "client";
  if (e.type !== "LOGIN" && e.type !== "LOGIN_ERROR") return undefined;
  return e.details?.grant_type === "password" ? "direct_grant" : "browser";
}

/** certificate, password ("x509 pwd": a password typed beside a certificate), or "" (e.g. an authorization error). */
function loginMethod(e: NewEvent): "certificate" | "password" | "" {
  const d = e.details;
  if (d?.auth_method === "x509" || d?.auth_type === "x509") return "certificate";
  if (d?.auth_method === "pwd" || d?.auth_type === "pwd" || d?.auth_type === "x509 pwd") return "password";
  return "";
}
