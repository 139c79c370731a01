// A realm's X.509 settings for the admin API (GET/PUT /admin/realms/{realm}/x509): read, and replace after
// validation. A bad value is refused with a message naming the field and the key, and nothing changes.
import { RealmStore } from "../realms/realm-store.ts";
import { NotFoundError } from "./errors.ts";
import type { AdminDeps } from "./realms.ts";
import { parseRepresentation, x509Schema, type X509Representation } from "./representation.ts";

/** What a realm that was never configured shows: both flows off, no anchors. */
export const EMPTY_X509: X509Representation = { browser: { enabled: false }, directGrant: { enabled: false }, trustAnchors: [] };

export async function getX509(deps: AdminDeps, realmName: string): Promise<X509Representation> {
  const realm = await new RealmStore(deps.db).findByName(realmName);
  if (!realm) throw new NotFoundError(`realm "${realmName}" not found`);
  return realm.x509 ?? EMPTY_X509;
}

export async function putX509(deps: AdminDeps, realmName: string, input: unknown): Promise<X509Representation> {
  const store = new RealmStore(deps.db);
  const realm = await store.findByName(realmName);
  if (!realm) throw new NotFoundError(`realm "${realmName}" not found`);
  const x509 = parseRepresentation(x509Schema, input, "x509");
  const updated = await store.setX509(realm.id, x509);
  deps.changed(realm.name);
  return updated.x509 ?? EMPTY_X509;
}
