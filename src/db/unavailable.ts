// Whether an error means "the database cannot be reached right now" (an outage, not a mistake): connection refused
// or cut, a timeout, a pool with no free connection, PostgreSQL shutting down or full, SQLite busy beyond its timeout.
// Such a failure is answered 503 temporarily_unavailable with Retry-After, never 500 (http/errors.ts, oidc/provider.ts).
// The errors come from node-postgres (the prepared statements of db/hot-sql.ts), from Prisma (known request errors
// P1001…, or its driver adapters' errors with a `cause.kind`) and from better-sqlite3; causes are followed.

/** Seconds a client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** A failure already classified as an outage (e.g. events that could not be made durable in time). */
export class DatabaseUnavailableError extends Error {}

const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "SQLITE_BUSY", "SQLITE_LOCKED"]);
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
/** SQLSTATE: connection exceptions, operator intervention (shutdown, crash, starting up), too many connections. */
const SQLSTATE = /^(08...|57P0[123]|53300)$/;
const MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Cannot use a pool after calling end|Client has encountered a connection error|terminating connection|database is locked|the database system is (starting up|shutting down)|Can't reach database server/i;

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (depth > 6 || typeof err !== "object" || err === null) return false;
  if (err instanceof DatabaseUnavailableError) return true;
  const e = err as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === "string" && (PRISMA_CODES.has(e.code) || NODE_CODES.has(e.code) || SQLSTATE.test(e.code))) return true;
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === "string" && MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
