// oidc-provider's storage on Prisma: sessions, interactions, codes, access/refresh tokens and grants, one table,
// scoped per realm (a token of one realm is never found by another realm's provider). The payload is kept as JSON
// text with the columns the adapter contract searches by (grantId, uid, userCode) beside it.
// Contract: node-oidc-provider example/my_adapter.js. Expired rows are invisible at once and deleted by sweepExpired().
import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider";
import type { Prisma } from "../db/database.ts";
import { hotSqlOf, type HotSql } from "../db/hot-sql.ts";

/** Supplies the "Client" model: clients live in their own table, managed by the admin API, not by the provider. */
export type ClientSource = (clientId: string) => Promise<AdapterPayload | undefined>;

export function prismaAdapter(db: Prisma, realmId: string, clients: ClientSource): AdapterFactory {
  return (model: string): Adapter => (model === "Client" ? clientAdapter(clients) : payloadAdapter(db, realmId, model));
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
  const key = (id: string) => ({ realmId_model_id: { realmId, model, id } });
  const live = (row: { payload: string; expiresAt: Date | null; consumedAt: Date | null } | null): AdapterPayload | undefined => {
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
  };
  const select = { payload: true, expiresAt: true, consumedAt: true } as const;
  return {
    async upsert(id, payload, expiresIn) {
      if (hot) {
        const expiresAt = expiresIn ? hot.timestamp(new Date(Date.now() + expiresIn * 1000)) : null;
        await hot.run(UPSERT, [realmId, model, id, JSON.stringify(payload), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresAt]);
        return;
      }
      const columns = {
        payload: JSON.stringify(payload),
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await db.oidcPayload.upsert({ where: key(id), create: { realmId, model, id, ...columns }, update: columns });
    },
    async find(id) {
      if (hot) {
        const [row] = await hot.all<{ payload: string; consumed: number | string }>(FIND, [realmId, model, id, hot.timestamp(new Date())]);
        if (!row) return undefined;
        // A consumed token needs its consumption time: the rare case takes the general path.
        if (Number(row.consumed) === 0) return JSON.parse(row.payload) as AdapterPayload;
      }
      return live(await db.oidcPayload.findUnique({ where: key(id), select }));
    },
    async findByUid(uid) {
      return live(await db.oidcPayload.findFirst({ where: { realmId, model, uid }, select }));
    },
    async findByUserCode(userCode) {
      return live(await db.oidcPayload.findFirst({ where: { realmId, model, userCode }, select }));
    },
    async consume(id) {
      await db.oidcPayload.updateMany({ where: { realmId, model, id }, data: { consumedAt: new Date() } });
    },
    async destroy(id) {
      await db.oidcPayload.deleteMany({ where: { realmId, model, id } });
    },
    async revokeByGrantId(grantId) {
      await db.oidcPayload.deleteMany({ where: { realmId, grantId } });
    },
  };
}

/** Deletes expired provider records of every realm; returns how many. */
export async function sweepExpired(db: Prisma, now = new Date()): Promise<number> {
  const { count } = await db.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } });
  return count;
}
