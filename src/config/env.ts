// Process settings: every environment variable x509-idp reads, validated once at start-up.
// This file is the source of truth for the README's configuration table; a bad value stops the start with a
// message that names the variable.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseEnv } from "node:util";
import { z } from "zod";
import { TrustedProxies } from "../net/trusted-proxies.ts";
import { X509ConfigError } from "../x509/errors.ts";
import { createLookup, LOOKUP_IDS, type LookupId } from "../x509/lookup/index.ts";

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => ["true", "1", "yes"].includes(v));
/** A URL that is an origin: scheme, host and port, nothing after them. */
const originOnly = (v: string) => {
  const u = new URL(v);
  return u.pathname === "/" && !u.search && !u.hash && !u.username && !u.password && !v.includes("?") && !v.includes("#");
};
const optional = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : s);

const schema = z
  .object({
    IDP_DATA_DIR: z.string().default("./data"),
    DATABASE_URL: z.string().regex(/^(postgres(ql)?:\/\/|file:)/, "must start with postgres://, postgresql:// or file:").optional(),
    IDP_HOST: z.string().default("0.0.0.0"),
    IDP_HTTPS_PORT: port.default(8443),
    IDP_HTTP_PORT: port.optional(),
    IDP_HTTPS_CLIENT_CERT: z.enum(["request", "none"]).default("request"),
    IDP_MTLS_PORT: port.optional(),
    IDP_MTLS_PUBLIC_URL: z.url({ protocol: /^https$/ }).refine(originOnly, "https, host and port only (e.g. https://mtls.login.example.org): no path, query, fragment or userinfo").optional(),
    IDP_PUBLIC_URL: z.url({ protocol: /^https?$/ }).refine(originOnly, "scheme, host and port only (e.g. https://login.example.org): no path, query, fragment or userinfo").optional(),
    IDP_TLS_CERT: z.string().optional(),
    IDP_TLS_KEY: z.string().optional(),
    IDP_ADMIN_USER: z.string().regex(/^[^\s]{1,255}$/, "a username without spaces").default("admin"),
    IDP_ADMIN_PASSWORD: z.string().min(1).optional(),
    IDP_DEMO: flag.default(true),
    IDP_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    IDP_CRL_DIR: z.string().optional(),
    IDP_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
    IDP_CRL_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(100 * 1024 * 1024),
    IDP_CRL_MIN_RELOAD_SECONDS: z.coerce.number().int().min(0).max(86_400).default(10),
    IDP_CRL_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(31_536_000).optional(),
    IDP_REVOCATION_FAILURE_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    IDP_TRUSTED_PROXIES: z.string().optional(),
    IDP_X509_LOOKUP: z.enum(LOOKUP_IDS).default("tls"),
    IDP_SHUTDOWN_DELAY: z.coerce.number().min(0).max(300).default(1),
    IDP_REQUEST_TIMEOUT: z.coerce.number().min(1).max(600).default(10),
    IDP_TLS_HANDSHAKE_TIMEOUT: z.coerce.number().min(1).max(600).default(10),
    IDP_KEEPALIVE_TIMEOUT: z.coerce.number().min(1).max(3600).default(65),
    IDP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(128),
    IDP_SHUTDOWN_TIMEOUT: z.coerce.number().min(0).max(3600).default(25),
    IDP_WORKERS: z.string().refine((v) => v === "auto" || (/^\d{1,2}$/.test(v) && Number(v) >= 1 && Number(v) <= 64), "a number of processes from 1 to 64, or auto (one per core)")
      .transform((v) => (v === "auto" ? "auto" : Number(v))).optional(),
    IDP_METRICS_PORT: port.optional(),
    IDP_METRICS_TOKEN: z.string().min(16, "at least 16 characters (e.g. openssl rand -hex 32)").regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces").optional(),
    IDP_SECRET_KEY: z.string().min(32, "at least 32 characters (e.g. openssl rand -base64 32)").optional(),
    IDP_SECRET_KEY_PREVIOUS: z.string().min(32, "at least 32 characters: the key used before IDP_SECRET_KEY (or the content of data/secret.key)").optional(),
  });

/** Every variable read, for the README's table (test/unit/settings.test.ts checks that each is documented). */
export const VARIABLES = [...Object.keys(schema.shape), "IDP_CONFIG_FILE", "IDP_X509_LOOKUP_<OPTION>"];

/** IDP_X509_LOOKUP_SSL_CLIENT_CERT=… is the lookup option ssl-client-cert (Keycloak's option names, in capitals). */
const LOOKUP_OPTION_PREFIX = "IDP_X509_LOOKUP_";
const optionName = (variable: string) => variable.slice(LOOKUP_OPTION_PREFIX.length).toLowerCase().replaceAll("_", "-");
const optionVariable = (option: string) => LOOKUP_OPTION_PREFIX + option.toUpperCase().replaceAll("-", "_");

export interface Settings {
  dataDir: string;
  databaseUrl: string;
  host: string;
  httpsPort: number;
  httpPort: number | undefined;
  /** Whether the main HTTPS port asks clients for a certificate (IDP_HTTPS_CLIENT_CERT). */
  httpsClientCert: "request" | "none";
  /** A second HTTPS port that always asks for a client certificate (IDP_MTLS_PORT). */
  mtlsPort: number | undefined;
  /**
   * Where clients reach the certificate listener (RFC 8705 mtls_endpoint_aliases; the browser's certificate login):
   * IDP_MTLS_PUBLIC_URL, else IDP_PUBLIC_URL's host on IDP_MTLS_PORT; undefined without either.
   */
  mtlsPublicUrl: string | undefined;
  /** Base of every issuer: `${publicUrl}/realms/{realm}`. */
  publicUrl: string;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  adminUser: string;
  adminPassword: string | undefined;
  demo: boolean;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  revocation: RevocationSettings;
  /** Peers whose forwarded header fields (client certificate, address, scheme, host) are believed. */
  trustedProxies: TrustedProxies;
  /** Where client certificates come from: the TLS connection, or a header of a trusted proxy. */
  x509Lookup: { id: LookupId; options: Record<string, string> };
  /** Encrypts stored secrets (signing and cookie keys, LDAP bind credentials); undefined: the key file in dataDir. */
  secretKey: string | undefined;
  /** The key used before secretKey: what it sealed still opens and is sealed again at start. */
  previousSecretKey: string | undefined;
  /** Graceful shutdown: how long requests are still accepted (readiness already 503), then how long they may take. */
  shutdown: { delayMs: number; timeoutMs: number };
  connections: ConnectionSettings;
  /** GET /metrics: on its own plain HTTP port (IDP_METRICS_PORT), and/or on the main ports when a token is set. */
  metrics: { port: number | undefined; token: string | undefined };
  /** Server processes sharing the listeners (cli/workers.ts): IDP_WORKERS, else one per core with NODE_ENV=production. */
  workers: number;
}

/** Limits on what one client holds: slow requests, handshakes, idle connections, connections per address. */
export interface ConnectionSettings {
  /** Receiving a request's headers and body (not answering it). */
  requestTimeoutMs: number;
  handshakeTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0: no limit. Trusted proxies are not limited. */
  maxPerAddress: number;
}

export interface RevocationSettings {
  /** Configured CRL file names are relative to this folder (and may not leave it). */
  crlDir: string;
  fetchTimeoutMs: number;
  crlMaxBytes: number;
  crlMinReloadSeconds: number;
  /** Upper bound on how long a CRL is used before reloading (default: until its nextUpdate). */
  crlMaxAgeSeconds: number | undefined;
  /** How long a failed CRL download or an unreachable OCSP responder is remembered (not asked again); 0: never. */
  failureCacheSeconds: number;
}

export class SettingsError extends Error {}

/**
 * IDP_CONFIG_FILE: a file of NAME=value lines (the .env format) supplying the variables the environment does not set.
 * The environment wins, so a container or service manager can override any line.
 */
function withConfigFile(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const file = optional(env.IDP_CONFIG_FILE);
  if (file === undefined) return env;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new SettingsError(`invalid configuration:\n  IDP_CONFIG_FILE: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const fromFile = parseEnv(text);
  const merged: Record<string, string | undefined> = Object.assign(Object.create(null) as Record<string, string | undefined>, fromFile);
  for (const [k, v] of Object.entries(env)) if (optional(v) !== undefined || !Object.hasOwn(fromFile, k)) merged[k] = v;
  return merged;
}

export function loadSettings(given: Record<string, string | undefined> = process.env): Settings {
  const env = withConfigFile(given);
  const picked = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, optional(env[k])]));
  const parsed = schema.safeParse(picked);
  const lines = parsed.success ? [] : parsed.error.issues.map((i) => `  ${i.path.join(".") || "environment"}: ${i.message}`);
  if ((picked.IDP_TLS_CERT === undefined) !== (picked.IDP_TLS_KEY === undefined)) lines.push("  IDP_TLS_CERT, IDP_TLS_KEY: set both or neither");
  let trustedProxies = new TrustedProxies([]);
  try {
    trustedProxies = TrustedProxies.parse(picked.IDP_TRUSTED_PROXIES);
  } catch (e) {
    lines.push(`  IDP_TRUSTED_PROXIES: ${(e as Error).message}`);
  }
  const lookupId = parsed.success ? parsed.data.IDP_X509_LOOKUP : "tls";
  const lookupOptions: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith(LOOKUP_OPTION_PREFIX) && optional(v) !== undefined) lookupOptions[optionName(k)] = (v as string).trim();
  }
  if (parsed.success) {
    try {
      createLookup(lookupId, lookupOptions);
    } catch (e) {
      if (!(e instanceof X509ConfigError)) throw e;
      lines.push(`  ${optionVariable(e.key)}: ${e.message.slice(e.key.length + 2)} (IDP_X509_LOOKUP=${lookupId})`);
    }
  }
  if (lookupId !== "tls" && trustedProxies.empty) {
    lines.push(`  IDP_TRUSTED_PROXIES: IDP_X509_LOOKUP=${lookupId} reads client certificates from a header, which anyone could send: list the proxies' addresses (e.g. IDP_TRUSTED_PROXIES=10.0.0.5/32)`);
  }
  if (parsed.success && parsed.data.IDP_METRICS_PORT !== undefined && [parsed.data.IDP_HTTPS_PORT, parsed.data.IDP_HTTP_PORT].includes(parsed.data.IDP_METRICS_PORT)) {
    lines.push("  IDP_METRICS_PORT: a port of its own, not IDP_HTTPS_PORT or IDP_HTTP_PORT");
  }
  const mtls = parsed.success ? parsed.data.IDP_MTLS_PORT : undefined;
  if (parsed.success && mtls !== undefined && mtls !== 0 && [parsed.data.IDP_HTTPS_PORT, parsed.data.IDP_HTTP_PORT, parsed.data.IDP_METRICS_PORT].includes(mtls)) {
    lines.push("  IDP_MTLS_PORT: a port of its own, not IDP_HTTPS_PORT, IDP_HTTP_PORT or IDP_METRICS_PORT");
  }
  const memory = /^file::memory:/.test(picked.DATABASE_URL ?? "");
  if (parsed.success && memory && parsed.data.IDP_WORKERS !== undefined && parsed.data.IDP_WORKERS !== 1) {
    lines.push("  IDP_WORKERS: an in-memory database (DATABASE_URL=file::memory:) is each process's own: one worker only");
  }
  if (!parsed.success || lines.length) throw new SettingsError(`invalid configuration:\n${lines.join("\n")}`);
  const e = parsed.data;
  const dataDir = path.resolve(e.IDP_DATA_DIR);
  const cores = os.availableParallelism();
  const workers = memory ? 1 : e.IDP_WORKERS === "auto" ? cores : (e.IDP_WORKERS ?? (optional(env.NODE_ENV) === "production" ? cores : 1));
  const defaultPublic = e.IDP_HTTPS_PORT === 443 ? "https://localhost" : `https://localhost:${e.IDP_HTTPS_PORT}`;
  const publicUrl = new URL(e.IDP_PUBLIC_URL ?? defaultPublic).origin;
  const mtlsOnPort = () => {
    const u = new URL(publicUrl);
    u.protocol = "https:";
    u.port = String(e.IDP_MTLS_PORT);
    return u.origin;
  };
  return {
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `file:${path.join(dataDir, "idp.db")}`,
    host: e.IDP_HOST,
    httpsPort: e.IDP_HTTPS_PORT,
    httpPort: e.IDP_HTTP_PORT,
    httpsClientCert: e.IDP_HTTPS_CLIENT_CERT,
    mtlsPort: e.IDP_MTLS_PORT,
    mtlsPublicUrl: e.IDP_MTLS_PUBLIC_URL !== undefined ? new URL(e.IDP_MTLS_PUBLIC_URL).origin : e.IDP_MTLS_PORT !== undefined ? mtlsOnPort() : undefined,
    publicUrl,
    tlsCertFile: e.IDP_TLS_CERT,
    tlsKeyFile: e.IDP_TLS_KEY,
    adminUser: e.IDP_ADMIN_USER.toLowerCase(),
    adminPassword: e.IDP_ADMIN_PASSWORD,
    demo: e.IDP_DEMO,
    logLevel: e.IDP_LOG_LEVEL,
    revocation: {
      crlDir: path.resolve(e.IDP_CRL_DIR ?? path.join(dataDir, "crl")),
      fetchTimeoutMs: e.IDP_FETCH_TIMEOUT_MS,
      crlMaxBytes: e.IDP_CRL_MAX_BYTES,
      crlMinReloadSeconds: e.IDP_CRL_MIN_RELOAD_SECONDS,
      crlMaxAgeSeconds: e.IDP_CRL_MAX_AGE_SECONDS,
      failureCacheSeconds: e.IDP_REVOCATION_FAILURE_CACHE_SECONDS,
    },
    trustedProxies,
    x509Lookup: { id: lookupId, options: lookupOptions },
    secretKey: e.IDP_SECRET_KEY,
    previousSecretKey: e.IDP_SECRET_KEY_PREVIOUS,
    shutdown: { delayMs: e.IDP_SHUTDOWN_DELAY * 1000, timeoutMs: e.IDP_SHUTDOWN_TIMEOUT * 1000 },
    connections: {
      requestTimeoutMs: e.IDP_REQUEST_TIMEOUT * 1000,
      handshakeTimeoutMs: e.IDP_TLS_HANDSHAKE_TIMEOUT * 1000,
      keepAliveTimeoutMs: e.IDP_KEEPALIVE_TIMEOUT * 1000,
      maxPerAddress: e.IDP_MAX_CONNECTIONS_PER_ADDRESS,
    },
    metrics: { port: e.IDP_METRICS_PORT, token: e.IDP_METRICS_TOKEN },
    workers,
  };
}
