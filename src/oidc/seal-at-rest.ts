// The start-up pass that leaves no usable secret in the database, whatever wrote it (an older release, or a key now
// replaced): provider records keyed by their id in clear are re-keyed by its hash (oidc/adapter.ts); signing keys and
// cookie keys stored in clear are sealed; secrets sealed with IDP_SECRET_KEY_PREVIOUS are sealed again with the
// current key, LDAP bind credentials included. Idempotent, each row in its own small write, safe on several nodes at
// once (a row another node has already changed is left as it is).
import type { SecretBox } from "../config/secret-box.ts";
import { SecretBox as Box, SEALED } from "../config/secret-box.ts";
import type { Prisma } from "../db/database.ts";
import { isStorageId, storageId, storedPayload } from "./adapter.ts";

export interface SealReport {
  rekeyedRecords: number;
  sealedSigningKeys: number;
  sealedCookieKeys: number;
  resealed: number;
}

/** The value sealed with the current key, or undefined when it already is. */
function current(box: SecretBox, stored: string, context: string): string | undefined {
  if (!Box.isSealed(stored)) return box.seal(stored, context);
  const { value, previousKey } = box.openWithKeyAge(stored, context);
  return previousKey ? box.seal(value, context) : undefined;
}

export async function sealAtRest(db: Prisma, box: SecretBox): Promise<SealReport> {
  const report: SealReport = { rekeyedRecords: 0, sealedSigningKeys: 0, sealedCookieKeys: 0, resealed: 0 };

  // Ids in clear are 21 or 43 characters long; hashed keys are 64 (a hash never needs this pass again).
  const clear = await db.$queryRaw<{ realmId: string; model: string; id: string; payload: string }[]>`
    SELECT "realmId", "model", "id", "payload" FROM "OidcPayload" WHERE length("id") <> 64`;
  for (const row of clear) {
    if (isStorageId(row.id)) continue;
    const payload = storedPayload(row.model, JSON.parse(row.payload) as Parameters<typeof storedPayload>[1]);
    const where = { realmId: row.realmId, model: row.model, id: row.id };
    try {
      // Another node doing the same moves the row first: this update then changes nothing.
      await db.oidcPayload.updateMany({ where, data: { id: storageId(row.id), payload } });
    } catch (e) {
      // The hashed row exists already (written since): the clear one is a leftover.
      if ((e as { code?: unknown }).code !== "P2002") throw e;
      await db.oidcPayload.deleteMany({ where });
    }
    report.rekeyedRecords++;
  }

  for (const key of await db.signingKey.findMany({ select: { kid: true, realmId: true, privateJwk: true } })) {
    const sealed = current(box, key.privateJwk, SEALED.signingKey(key.realmId, key.kid));
    if (sealed === undefined) continue;
    await db.signingKey.updateMany({ where: { kid: key.kid, privateJwk: key.privateJwk }, data: { privateJwk: sealed } });
    if (Box.isSealed(key.privateJwk)) report.resealed++;
    else report.sealedSigningKeys++;
  }

  for (const realm of await db.realm.findMany({ select: { id: true, cookieKeys: true, ldapBindCredential: true } })) {
    const cookies = realm.cookieKeys === "" ? undefined : current(box, realm.cookieKeys, SEALED.cookieKeys(realm.id));
    if (cookies !== undefined) {
      await db.realm.updateMany({ where: { id: realm.id, cookieKeys: realm.cookieKeys }, data: { cookieKeys: cookies } });
      if (Box.isSealed(realm.cookieKeys)) report.resealed++;
      else report.sealedCookieKeys++;
    }
    // LDAP bind credentials were always sealed: only a key rotation changes them.
    if (realm.ldapBindCredential !== null) {
      const ldap = current(box, realm.ldapBindCredential, SEALED.ldapBindCredential(realm.id));
      if (ldap !== undefined) {
        await db.realm.updateMany({ where: { id: realm.id, ldapBindCredential: realm.ldapBindCredential }, data: { ldapBindCredential: ldap } });
        report.resealed++;
      }
    }
  }
  return report;
}
