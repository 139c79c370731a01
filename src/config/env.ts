// Process settings: every environment variable x509-idp reads, validated once at start-up.
// This file is the source of truth for the README's configuration table; a bad value stops the start with a
// message that names the variable.
import path from "node:path";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => ["true", "1", "yes"].includes(v));
const optional = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : s);

const schema = z
  .object({
    IDP_DATA_DIR: z.string().default("./data"),
    DATABASE_URL: z.string().regex(/^(postgres(ql)?:\/\/|file:)/, "must start with postgres://, postgresql:// or file:").optional(),
    IDP_HOST: z.string().default("0.0.0.0"),
    IDP_HTTPS_PORT: port.default(8443),
    IDP_HTTP_PORT: port.optional(),
    IDP_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
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
  });

export interface Settings {
  dataDir: string;
  databaseUrl: string;
  host: string;
  httpsPort: number;
  httpPort: number | undefined;
  /** Base of every issuer: `${publicUrl}/realms/{realm}`. */
  publicUrl: string;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  adminUser: string;
  adminPassword: string | undefined;
  demo: boolean;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  revocation: RevocationSettings;
}

export interface RevocationSettings {
  /** Configured CRL file names are relative to this folder (and may not leave it). */
  crlDir: string;
  fetchTimeoutMs: number;
  crlMaxBytes: number;
  crlMinReloadSeconds: number;
  /** Upper bound on how long a CRL is used before reloading (default: until its nextUpdate). */
  crlMaxAgeSeconds: number | undefined;
}

export class SettingsError extends Error {}

export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const picked = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, optional(env[k])]));
  const parsed = schema.safeParse(picked);
  const lines = parsed.success ? [] : parsed.error.issues.map((i) => `  ${i.path.join(".") || "environment"}: ${i.message}`);
  if ((picked.IDP_TLS_CERT === undefined) !== (picked.IDP_TLS_KEY === undefined)) lines.push("  IDP_TLS_CERT, IDP_TLS_KEY: set both or neither");
  if (!parsed.success || lines.length) throw new SettingsError(`invalid configuration:\n${lines.join("\n")}`);
  const e = parsed.data;
  const dataDir = path.resolve(e.IDP_DATA_DIR);
  const defaultPublic = e.IDP_HTTPS_PORT === 443 ? "https://localhost" : `https://localhost:${e.IDP_HTTPS_PORT}`;
  return {
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `file:${path.join(dataDir, "idp.db")}`,
    host: e.IDP_HOST,
    httpsPort: e.IDP_HTTPS_PORT,
    httpPort: e.IDP_HTTP_PORT,
    publicUrl: (e.IDP_PUBLIC_URL ?? defaultPublic).replace(/\/+$/, ""),
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
    },
  };
}
