// The audit log (Keycloak: events). Writes are queued and inserted in batches so the token endpoint does not wait
// for an insert; reads flush the queue first, so a query always sees every event recorded before it.
import type { Prisma, Tx } from "../db/database.ts";
import type { Logger } from "../log.ts";

/** Keycloak's event type names, so existing dashboards and queries keep working (and one of x509-idp's). */
export type EventType =
  | "LOGIN" | "LOGIN_ERROR"
  | "CODE_TO_TOKEN" | "CODE_TO_TOKEN_ERROR"
  | "REFRESH_TOKEN" | "REFRESH_TOKEN_ERROR"
  | "CLIENT_LOGIN" | "CLIENT_LOGIN_ERROR"
  | "LOGOUT" | "LOGOUT_ERROR"
  | "INTROSPECT_TOKEN" | "INTROSPECT_TOKEN_ERROR"
  | "REVOKE_GRANT" | "USER_INFO_REQUEST_ERROR"
  | "REGISTER"
  | "USER_DISABLED_BY_TEMPORARY_LOCKOUT" | "USER_DISABLED_BY_PERMANENT_LOCKOUT"
  /** x509-idp's own: a certificate header from a peer outside IDP_TRUSTED_PROXIES (ignored). */
  | "UNTRUSTED_PROXY_HEADER"
  /** x509-idp's own: the realm's LDAP directory stopped answering (recorded once per outage). */
  | "LDAP_UNAVAILABLE";

export type EventDetails = Record<string, string | number | boolean | string[] | undefined>;

export interface NewEvent {
  realmId: string;
  type: EventType;
  clientId?: string | undefined;
  userId?: string | undefined;
  ipAddress?: string | undefined;
  error?: string | undefined;
  details?: EventDetails | undefined;
}

export interface RecordedEvent {
  id: string;
  time: number;
  type: string;
  realmId: string;
  clientId: string | null;
  userId: string | null;
  ipAddress: string | null;
  error: string | null;
  details: Record<string, unknown>;
}

export interface EventQuery {
  types?: string[];
  clientId?: string;
  userId?: string;
  ipAddress?: string;
  from?: Date;
  to?: Date;
  first?: number;
  max?: number;
}

export interface EventRecorder {
  record(e: NewEvent): void;
}

const FLUSH_AFTER_MS = 20;
const BATCH = 200;

export class EventStore implements EventRecorder {
  readonly #db: Prisma;
  readonly #log: Logger;
  #queue: (NewEvent & { time: Date })[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: Prisma, log: Logger) {
    this.#db = db;
    this.#log = log;
  }

  record(e: NewEvent): void {
    this.#queue.push({ ...e, time: new Date() });
    if (this.#queue.length >= BATCH) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
  }

  /** Writes everything queued so far; resolves when it is stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue.splice(0);
    this.#flushing = this.#flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.#db.event.createMany({
          data: batch.map((e) => ({
            realmId: e.realmId,
            type: e.type,
            clientId: e.clientId ?? null,
            userId: e.userId ?? null,
            ipAddress: e.ipAddress ?? null,
            error: e.error ?? null,
            // PostgreSQL stores no NUL in text or JSON: one in a detail (a username sent by a client) would lose the batch.
            details: JSON.parse(JSON.stringify(e.details ?? {}, (_k, v: unknown) => (typeof v === "string" ? v.replaceAll("\u0000", "\uFFFD") : v))),
            time: e.time,
          })),
        });
      } catch (err) {
        // A realm deleted while its events were queued: nothing to keep them for.
        this.#log.warn({ err, count: batch.length }, "could not store events");
      }
    });
    return this.#flushing;
  }

  async query(realmId: string, q: EventQuery, db: Tx = this.#db): Promise<RecordedEvent[]> {
    await this.flush();
    const rows = await db.event.findMany({
      where: {
        realmId,
        ...(q.types?.length && { type: { in: q.types } }),
        ...(q.clientId !== undefined && { clientId: q.clientId }),
        ...(q.userId !== undefined && { userId: q.userId }),
        ...(q.ipAddress !== undefined && { ipAddress: q.ipAddress }),
        ...((q.from || q.to) && { time: { ...(q.from && { gte: q.from }), ...(q.to && { lte: q.to }) } }),
      },
      orderBy: [{ time: "desc" }, { id: "asc" }],
      skip: q.first ?? 0,
      take: Math.min(q.max ?? 100, 1000),
    });
    return rows.map((r) => ({
      id: r.id,
      time: r.time.getTime(),
      type: r.type,
      realmId: r.realmId,
      clientId: r.clientId,
      userId: r.userId,
      ipAddress: r.ipAddress,
      error: r.error,
      details: (r.details ?? {}) as Record<string, unknown>,
    }));
  }
}
