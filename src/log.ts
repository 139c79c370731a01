// Structured logs (pino). Secrets never reach the log: known secret fields are redacted wherever they appear,
// and request logging records method, path and status only (no query strings, bodies or headers).
import { pino, type Logger } from "pino";

export type { Logger };

export const REDACTED_FIELDS = [
  "password",
  "secret",
  "client_secret",
  "clientSecret",
  "credentials",
  "passwordHash",
  "secretHash",
  "privateJwk",
  "cookieKeys",
  "bindCredential",
  "ldapBindCredential",
  "secretKey",
  "authorization",
  "cookie",
  "access_token",
  "refresh_token",
  "id_token",
  "authorization_code",
  "code_verifier",
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const paths = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);
  return pino(
    {
      level,
      base: { service: "x509-idp" },
      redact: { paths, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? process.stdout,
  );
}
