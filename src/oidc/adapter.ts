// oidc-provider's storage on Prisma: sessions, interactions, codes, access/refresh tokens and grants, one table,
// scoped per realm (a token of one realm is never found by another realm's provider). The payload is kept as JSON
// text with the columns the adapter contract searches by (grantId, uid, userCode) beside it.
// Contract: node-oidc-provider example/my_adapter.js. Expired rows are invisible at once and deleted by sweepExpired().
import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider";
import type { Prisma } from "../db/database.ts";

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

function payloadAdapter(db: Prisma, realmId: string, model: string): Adapter {
  const key = (id: string) => ({ realmId_model_id: { realmId, model, id } });
  const live = (row: { payload: string; expiresAt: Date | null; consumedAt: Date | null } | null): AdapterPayload | undefined => {
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
  };
  const select = { payload: true, expiresAt: true, consumedAt: true } as const;
  return {
    async upsert(id, payload, expiresIn) {
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
