// The audit log (Keycloak: events). Writes are queued and inserted in batches so the token endpoint does not wait
// for an insert; reads flush the queue first, so a query always sees every event recorded before it.
import type { Prisma, Tx } from "../db/database.ts";
import { randomUUID } from "node:crypto";
import { hotSqlOf, type HotSql, type Statement } from "../db/hot-sql.ts";
import { DatabaseUnavailableError, isDatabaseUnavailable } from "../db/unavailable.ts";
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

/** Records an event together with the writes it reports (a login and its tokens): both are committed, or neither. */
export interface EventCommitter extends EventRecorder {
  /**
   * Queues `e` with `writes`, stored in the same transaction as the event (and the batch it joins: group commit).
   * Resolves once committed; rejects with DatabaseUnavailableError after `timeoutMs` (both stay queued and are
   * stored when the database answers), or with the database's error when the event or a write is refused on its
   * merits (then neither is stored).
   */
  commit(e: NewEvent, writes: readonly Statement[], timeoutMs: number): Promise<void>;
}

/** What a request needs to wait for its events: how many were recorded, and a wait until they are stored. */
export interface DurableEvents extends EventCommitter {
  readonly sequence: number;
  settle(timeoutMs: number): Promise<void>;
}

/** How long a request waits for its events to be stored before answering 503 (they stay queued). */
export const SETTLE_TIMEOUT_MS = 3000;

const FLUSH_AFTER_MS = 20;
const BATCH = 200;
/** Retries of a batch the database refused because it could not be reached: quickly at first, then every 2 s. */
const RETRY_MS = [50, 100, 250, 500, 1000, 2000];

type Queued = NewEvent & { time: Date; seq: number; writes?: readonly Statement[]; refused?: (err: unknown) => void };

const EVENT_COLUMNS = `"id", "realmId", "type", "clientId", "userId", "ipAddress", "error", "details", "time"`;
const INSERT_EVENT = `INSERT INTO "Event" (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
/** A whole batch in one statement: each column as an array. */
const INSERT_EVENTS_POSTGRES = `INSERT INTO "Event" (${EVENT_COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::timestamp(3)[])`;

/** The details as JSON text. PostgreSQL stores no NUL in text or JSON: one in a detail (a username a client sent) would lose its event. */
const detailsText = (e: NewEvent) => JSON.stringify(e.details ?? {}, (_k, v: unknown) => (typeof v === "string" ? v.replaceAll("\u0000", "\uFFFD") : v));
interface Waiter {
  seq: number;
  resolve: () => void;
}

/**
 * The audit log's writer. Events are queued and inserted in batches; a request that must not be acknowledged before
 * its events are durable (a login: Keycloak writes its events in the request's transaction) waits for them with
 * settle(), which starts a batch at once: while one insert runs, the next batch fills (group commit). A batch the
 * database cannot take because it is unreachable stays queued and is retried with back-off, in order; one refused on
 * its merits (its realm was deleted meanwhile) is retried event by event, and only the events refused are dropped.
 */
export class EventStore implements DurableEvents {
  readonly #db: Prisma;
  readonly #log: Logger;
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #running = false;
  #retry = 0;
  /** The last sequence number recorded, and the last one stored (or dropped). */
  #recorded = 0;
  #stored = 0;
  #waiters: Waiter[] = [];
  #storedCount = 0;
  #droppedCount = 0;
  #retryCount = 0;

  readonly #hot: HotSql | undefined;
  readonly #observe: ((e: NewEvent) => void) | undefined;

  /** `observe` sees each event as it is recorded (metrics). */
  constructor(db: Prisma, log: Logger, observe?: (e: NewEvent) => void) {
    this.#db = db;
    this.#log = log;
    this.#hot = hotSqlOf(db);
    this.#observe = observe;
  }

  /** How many events were recorded so far (a request compares it before and after its work). */
  get sequence(): number {
    return this.#recorded;
  }

  /** Events recorded and not yet stored. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Since start: events stored, events dropped (refused on their merits), batches retried (the database did not answer). */
  get storedCount(): number {
    return this.#storedCount;
  }

  get droppedCount(): number {
    return this.#droppedCount;
  }

  get retryCount(): number {
    return this.#retryCount;
  }

  record(e: NewEvent): void {
    this.#observe?.(e);
    this.#queue.push({ ...e, time: new Date(), seq: ++this.#recorded });
    if (this.#queue.length >= BATCH) this.#pump();
    else this.#timer ??= setTimeout(() => this.#pump(), FLUSH_AFTER_MS);
  }

  commit(e: NewEvent, writes: readonly Statement[], timeoutMs: number): Promise<void> {
    this.#observe?.(e);
    const seq = ++this.#recorded;
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new DatabaseUnavailableError("the login could not be stored in time")), timeoutMs);
      // Resolved when stored, or rejected when refused on its merits (#oneByOne), whichever the queue reaches first.
      const refused = (err: unknown) => { clearTimeout(t); reject(err); };
      this.#queue.push({ ...e, time: new Date(), seq, writes, refused });
      this.#waiters.push({ seq, resolve: () => { clearTimeout(t); resolve(); } });
      // Group commit: the logins that reach this point in the same turn of the event loop share one transaction
      // (SQLite's writes are synchronous: a batch started at once would hold only this one).
      this.#soon ??= setImmediate(() => {
        this.#soon = undefined;
        this.#pump();
      });
    });
  }

  /**
   * Resolves once every event recorded so far is stored; rejects with DatabaseUnavailableError when that takes longer
   * than `timeoutMs` (the events stay queued and are stored when the database answers again).
   */
  settle(timeoutMs: number): Promise<void> {
    const seq = this.#recorded;
    if (this.#stored >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new DatabaseUnavailableError("the audit log could not be written in time")), timeoutMs);
      this.#waiters.push({ seq, resolve: () => { clearTimeout(t); resolve(); } });
      this.#pump();
    });
  }

  /** Writes everything queued so far; resolves when it is stored, or after `timeoutMs` (shutdown, queries). */
  async flush(timeoutMs = 10_000): Promise<void> {
    try {
      await this.settle(timeoutMs);
    } catch {
      this.#log.error({ pending: this.#queue.length }, "events could not be stored: the database does not answer");
    }
  }

  /** Starts writing what is queued, unless a write runs or (for `fromTimer` false) a retry is waiting its turn. */
  #pump(fromTimer = false): void {
    if (this.#retry > 0 && !fromTimer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running || this.#queue.length === 0) return;
    this.#running = true;
    void this.#drain().finally(() => {
      this.#running = false;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, BATCH);
      let dropped = 0;
      try {
        await this.#insert(batch).catch(async (err: unknown) => {
          if (isDatabaseUnavailable(err)) throw err;
          dropped = await this.#oneByOne(batch);
        });
      } catch (err) {
        // Kept, in order, and tried again after a pause; waiting requests answer 503 after their own timeout.
        const wait = RETRY_MS[Math.min(this.#retry++, RETRY_MS.length - 1)] as number;
        this.#retryCount++;
        if (this.#retry === 1) this.#log.warn({ err, pending: this.#queue.length }, "events not stored yet: the database does not answer; retrying");
        this.#timer = setTimeout(() => this.#pump(true), wait);
        return;
      }
      if (this.#retry > 0) this.#log.info({ pending: this.#queue.length }, "events stored again");
      this.#retry = 0;
      this.#done(batch, dropped);
    }
  }

  /** `handled`, the head of the queue, is stored (but for `dropped` of them): off the queue, and its waiters woken. */
  #done(handled: readonly Queued[], dropped: number): void {
    this.#queue.splice(0, handled.length);
    this.#storedCount += handled.length - dropped;
    this.#droppedCount += dropped;
    this.#stored = (handled.at(-1) as Queued).seq;
    this.#wake();
  }

  /** A batch refused on its merits: each event alone, so that only the one that cannot be stored is dropped. Returns how many were. */
  async #oneByOne(batch: Queued[]): Promise<number> {
    let dropped = 0;
    for (const [i, e] of batch.entries()) {
      try {
        await this.#insert([e]);
      } catch (err) {
        if (isDatabaseUnavailable(err)) {
          // The ones handled so far are not retried with the rest (they would be stored twice).
          if (i > 0) this.#done(batch.slice(0, i), dropped);
          throw err;
        }
        // A realm deleted while its events were queued: nothing to keep them for. A login whose event or tokens
        // were refused is told so (its tokens are not given out).
        this.#log.warn({ err, type: e.type }, "could not store an event");
        e.refused?.(err);
        dropped++;
      }
    }
    return dropped;
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.seq <= this.#stored);
    this.#waiters = this.#waiters.filter((w) => w.seq > this.#stored);
    for (const w of ready) w.resolve();
  }

  /** One transaction per batch: prepared statements where the database has them (db/hot-sql.ts), else Prisma. */
  async #insert(batch: readonly Queued[]): Promise<void> {
    const hot = this.#hot;
    // A login's writes ride in its batch's transaction (they are committed with the events, or not at all).
    if (hot) return hot.batch([...this.#statements(hot, batch), ...batch.flatMap((e) => e.writes ?? [])]);
    if (batch.some((e) => e.writes)) throw new Error("writes with an event need the database's prepared statements");
    await this.#db.event.createMany({
      data: batch.map((e) => ({
        realmId: e.realmId, type: e.type, clientId: e.clientId ?? null, userId: e.userId ?? null, ipAddress: e.ipAddress ?? null, error: e.error ?? null,
        details: JSON.parse(detailsText(e)), time: e.time,
      })),
    });
  }

  /** The statements that insert `batch` (SQLite: one per event; PostgreSQL: one for all). */
  #statements(hot: HotSql, batch: readonly Queued[]): Statement[] {
    const rows = batch.map((e) => [randomUUID(), e.realmId, e.type, e.clientId ?? null, e.userId ?? null, e.ipAddress ?? null, e.error ?? null, detailsText(e), hot.timestamp(e.time)]);
    if (hot.provider === "sqlite") return rows.map((params) => ({ sql: INSERT_EVENT, params }));
    const columns: unknown[][] = [[], [], [], [], [], [], [], [], []];
    for (const row of rows) row.forEach((v, i) => columns[i]?.push(v));
    return [{ sql: INSERT_EVENTS_POSTGRES, params: columns }];
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
