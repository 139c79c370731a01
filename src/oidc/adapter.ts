// oidc-provider's storage on Prisma: sessions, interactions, codes, access/refresh tokens and grants, one table,
// scoped per realm (a token of one realm is never found by another realm's provider). The payload is kept as JSON
// text with the columns the adapter contract searches by (grantId, uid, userCode) beside it.
// Contract: node-oidc-provider example/my_adapter.js. Expired rows are invisible at once and deleted by sweepExpired().
//
// Nothing stored is a usable credential: a row's key is the SHA-256 of the token (or session, interaction, code) id,
// and the id is not in the stored payload; a lookup hashes the presented value. Whoever reads the database (a backup,
// a replica) finds no live token, session cookie or code in it.
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider";
import type { Prisma } from "../db/database.ts";
import { hotSqlOf, type HotSql, type Statement } from "../db/hot-sql.ts";
import { fromAlias, isJwt, rebuild, REVOKED, type AccessTokenJwts } from "./access-tokens.ts";

/** The key a provider record is stored under: the SHA-256 (hex, 64 characters) of its id. */
export const storageId = (id: string): string => createHash("sha256").update(id).digest("hex");

/** Whether a stored key is already a hash (ids written in clear by an older release are 21 or 43 characters). */
export const isStorageId = (key: string): boolean => /^[0-9a-f]{64}$/.test(key);

/** The payload as stored: without the id (`jti`), nor the session id an interaction keeps for information. */
export function storedPayload(model: string, payload: AdapterPayload): string {
  const { jti: _jti, ...rest } = payload;
  if (model === "Interaction" && rest.session) {
    const { cookie: _cookie, ...session } = rest.session as { cookie?: string };
    return JSON.stringify({ ...rest, session });
  }
  return JSON.stringify(rest);
}

/** The payload oidc-provider gets back: the id it was found by is its `jti`. */
const withId = (id: string | undefined, payload: AdapterPayload): AdapterPayload => (id === undefined ? payload : { ...payload, jti: id });

const deferred = new AsyncLocalStorage<Statement[]>();

/**
 * Runs `fn` with the records oidc-provider saves (grant, tokens) collected instead of written: the caller commits them
 * with the event that reports them (EventCommitter.commit), so a login's tokens and its event are stored together, in
 * one transaction, or not at all. Nothing saved inside `fn` can be read back inside it.
 */
export async function collectWrites<T>(fn: () => Promise<T>): Promise<{ result: T; writes: Statement[] }> {
  const writes: Statement[] = [];
  const result = await deferred.run(writes, fn);
  return { result, writes };
}

/** Supplies the "Client" model: clients live in their own table, managed by the admin API, not by the provider. */
export type ClientSource = (clientId: string) => Promise<AdapterPayload | undefined>;

/** `jwts`: the realm's JWT access tokens (oidc/access-tokens.ts), found by their signature instead of a row. */
export function prismaAdapter(db: Prisma, realmId: string, clients: ClientSource, jwts?: AccessTokenJwts): AdapterFactory {
  return (model: string): Adapter => {
    if (model === "Client") return clientAdapter(clients);
    const stored = payloadAdapter(db, realmId, model);
    return jwts && (model === "AccessToken" || model === "ClientCredentials") ? jwtAdapter(db, realmId, model, stored, jwts) : stored;
  };
}

/** The revocation list's keys: one token (by jti) or every access token of a grant. */
const revokedToken = (jti: string) => storageId(`jti:${jti}`);
const revokedGrant = (grantId: string) => storageId(`grant:${grantId}`);

/**
 * JWT access tokens beside stored (opaque) ones: a JWT is found when its signature is the realm's, it is unexpired and
 * of this model (a user's token has a grant, a client-credentials token none), it is not revoked, its grant was not
 * revoked after it was issued, and its grant still exists (logout and refresh-token replay delete grants).
 */
function jwtAdapter(db: Prisma, realmId: string, model: string, stored: Adapter, jwts: AccessTokenJwts): Adapter {
  const now = () => Math.floor(Date.now() / 1000);
  return {
    ...stored,
    async find(presented) {
      const id = fromAlias(presented);
      if (!isJwt(id)) return stored.find(presented);
      const claims = jwts.verify(id);
      if (!claims || claims.exp <= now()) return undefined;
      const grant = claims.x509idp.grant;
      if ((grant !== undefined) !== (model === "AccessToken")) return undefined;
      const ids = grant === undefined ? [revokedToken(claims.jti)] : [revokedToken(claims.jti), revokedGrant(grant)];
      const [entries, live] = await Promise.all([
        db.oidcPayload.findMany({ where: { realmId, model: REVOKED, id: { in: ids } }, select: { id: true, payload: true } }),
        grant === undefined ? 1 : db.oidcPayload.count({ where: { realmId, model: "Grant", id: storageId(grant), OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] } }),
      ]);
      // A grant's entry ends the tokens issued until then; the grant may go on (a browser session's next login).
      const revoked = entries.some((e) => e.id === ids[0] || claims.iat <= revokedAt(e.payload));
      return !revoked && live > 0 ? (rebuild(id, claims) as unknown as AdapterPayload) : undefined;
    },
    // Revoking a JWT lists its jti until it expires.
    async destroy(presented) {
      const id = fromAlias(presented);
      if (!isJwt(id)) return stored.destroy(presented);
      const claims = jwts.verify(id);
      if (!claims || claims.exp <= now()) return;
      await revoke(db, realmId, revokedToken(claims.jti), new Date(claims.exp * 1000));
    },
    // Stored tokens of the grant are deleted; its JWTs are listed until the grant itself would expire (no access
    // token is found after its grant is gone or expired).
    async revokeByGrantId(grantId) {
      await stored.revokeByGrantId(grantId);
      const row = await db.oidcPayload.findUnique({ where: { realmId_model_id: { realmId, model: "Grant", id: storageId(grantId) } }, select: { expiresAt: true } });
      if (row) await revoke(db, realmId, revokedGrant(grantId), row.expiresAt ?? new Date(Date.now() + 86_400_000));
    },
  };
}

/** When an entry of the revocation list was made (seconds), from its payload. */
const revokedAt = (payload: string): number => {
  const at = (JSON.parse(payload) as { at?: unknown }).at;
  return typeof at === "number" ? at : Number.POSITIVE_INFINITY;
};

async function revoke(db: Prisma, realmId: string, id: string, expiresAt: Date): Promise<void> {
  // No grantId column: revoking the grant's tokens (revokeByGrantId) must not delete the list's entries.
  const columns = { payload: JSON.stringify({ at: Math.floor(Date.now() / 1000) }), expiresAt };
  await db.oidcPayload.upsert({ where: { realmId_model_id: { realmId, model: REVOKED, id } }, create: { realmId, model: REVOKED, id, ...columns }, update: columns });
}

function clientAdapter(clients: ClientSource): Adapter {
  const readOnly = async () => {
    throw new Error("clients are managed through the admin API");
  };
  return {
    find: (id) => clients(id),
    upsert: readOnly,
    destroy: readOnly,
    consume: readOnly,
    revokeByGrantId: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}

// Every token issued and every token presented goes through these two statements (see db/hot-sql.ts).
const UPSERT = `INSERT INTO "OidcPayload" ("realmId", "model", "id", "payload", "grantId", "userCode", "uid", "expiresAt") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT ("realmId", "model", "id") DO UPDATE SET "payload" = excluded."payload", "grantId" = excluded."grantId", "userCode" = excluded."userCode", "uid" = excluded."uid", "expiresAt" = excluded."expiresAt"`;
const FIND = `SELECT "payload", CASE WHEN "consumedAt" IS NULL THEN 0 ELSE 1 END AS "consumed" FROM "OidcPayload"
  WHERE "realmId" = $1 AND "model" = $2 AND "id" = $3 AND ("expiresAt" IS NULL OR "expiresAt" > $4)`;

function payloadAdapter(db: Prisma, realmId: string, model: string): Adapter {
  const hot: HotSql | undefined = hotSqlOf(db);
  const key = (id: string) => ({ realmId_model_id: { realmId, model, id: storageId(id) } });
  // By uid or user code the id is not known: a Session found by its uid is only read, never saved again.
  const live = (row: { payload: string; expiresAt: Date | null; consumedAt: Date | null } | null, id?: string): AdapterPayload | undefined => {
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
    const payload = withId(id, JSON.parse(row.payload) as AdapterPayload);
    return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
  };
  const select = { payload: true, expiresAt: true, consumedAt: true } as const;
  return {
    async upsert(id, payload, expiresIn) {
      const stored = storedPayload(model, payload);
      if (hot) {
        const expiresAt = expiresIn ? hot.timestamp(new Date(Date.now() + expiresIn * 1000)) : null;
        const params = [realmId, model, storageId(id), stored, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresAt];
        const collecting = deferred.getStore();
        if (collecting) collecting.push({ sql: UPSERT, params });
        else await hot.run(UPSERT, params);
        return;
      }
      const columns = {
        payload: stored,
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await db.oidcPayload.upsert({ where: key(id), create: { realmId, model, id: storageId(id), ...columns }, update: columns });
    },
    async find(id) {
      if (hot) {
        const [row] = await hot.all<{ payload: string; consumed: number | string }>(FIND, [realmId, model, storageId(id), hot.timestamp(new Date())]);
        if (!row) return undefined;
        // A consumed token needs its consumption time: the rare case takes the general path.
        if (Number(row.consumed) === 0) return withId(id, JSON.parse(row.payload) as AdapterPayload);
      }
      return live(await db.oidcPayload.findUnique({ where: key(id), select }), id);
    },
    async findByUid(uid) {
      return live(await db.oidcPayload.findFirst({ where: { realmId, model, uid }, select }));
    },
    async findByUserCode(userCode) {
      return live(await db.oidcPayload.findFirst({ where: { realmId, model, userCode }, select }));
    },
    async consume(id) {
      await db.oidcPayload.updateMany({ where: { realmId, model, id: storageId(id) }, data: { consumedAt: new Date() } });
    },
    async destroy(id) {
      await db.oidcPayload.deleteMany({ where: { realmId, model, id: storageId(id) } });
    },
    async revokeByGrantId(grantId) {
      await db.oidcPayload.deleteMany({ where: { realmId, grantId } });
    },
  };
}

/** Rows deleted per statement by sweepExpired: a batch holds the database (SQLite: the one writer) for about a millisecond. */
export const SWEEP_BATCH = 250;

// A token, its grant and its refresh token expire by the thousand per minute under load. One statement deleting them
// all holds SQLite's writer for hundreds of milliseconds and writes the WAL by tens of MiB at once (measured: p99 of
// the certificate grant 0.3–1.35 s every minute once the first access tokens expired); small batches, one after the
// other with the event loop free between them, cost the requests nothing they notice.
const SWEEP_SQLITE = `DELETE FROM "OidcPayload" WHERE rowid IN (SELECT rowid FROM "OidcPayload" WHERE "expiresAt" < $1 LIMIT ${SWEEP_BATCH}) RETURNING 1 AS "gone"`;
// SKIP LOCKED: nodes sweeping one PostgreSQL at once take different rows instead of waiting for each other.
const SWEEP_POSTGRES = `DELETE FROM "OidcPayload" WHERE ctid IN (SELECT ctid FROM "OidcPayload" WHERE "expiresAt" < $1 LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED) RETURNING 1 AS "gone"`;

/**
 * Deletes provider records of every realm that expired before `now`, in batches of SWEEP_BATCH, until none is left or
 * `budgetMs` is spent (one batch at least). `more`: expired rows may remain (the budget ran out).
 */
export async function sweepExpired(db: Prisma, now = new Date(), budgetMs = Infinity): Promise<{ deleted: number; more: boolean }> {
  const hot = hotSqlOf(db);
  if (!hot) {
    const { count } = await db.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } });
    return { deleted: count, more: false };
  }
  const sql = hot.provider === "sqlite" ? SWEEP_SQLITE : SWEEP_POSTGRES;
  const before = hot.timestamp(now);
  const until = performance.now() + budgetMs;
  let deleted = 0;
  for (;;) {
    const gone = (await hot.all<{ gone: number }>(sql, [before])).length;
    deleted += gone;
    if (gone < SWEEP_BATCH) return { deleted, more: false };
    if (performance.now() >= until) return { deleted, more: true };
    await new Promise((resolve) => setImmediate(resolve));
  }
}
