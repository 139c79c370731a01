// Realm use cases for the admin API and the CLI. Updates are partial (Keycloak's PUT semantics): the given fields
// are merged onto the current representation and the result is validated as a whole.
import type { SecretBox } from "../config/secret-box.ts";
import type { Prisma } from "../db/database.ts";
import { RealmStore, toSettingsRepresentation } from "../realms/realm-store.ts";
import { ConflictError, NotFoundError, ValidationError } from "./errors.ts";
import { importRealm, RealmExistsError, type ImportSummary } from "./import.ts";
import { isObject, parseRepresentation, realmSettingsSchema, type RealmSettingsRepresentation } from "./representation.ts";

export interface AdminDeps {
  db: Prisma;
  /** Seals LDAP bind credentials (a realm created with LDAP federation). */
  secrets?: SecretBox;
  /** Called after a realm changed, so cached providers are rebuilt. */
  changed(realm: string): void;
}

export const MASTER_REALM = "master";

export async function listRealms(deps: AdminDeps): Promise<RealmSettingsRepresentation[]> {
  return (await new RealmStore(deps.db).list()).map(toSettingsRepresentation);
}

export async function getRealm(deps: AdminDeps, name: string): Promise<RealmSettingsRepresentation> {
  const realm = await new RealmStore(deps.db).findByName(name);
  if (!realm) throw new NotFoundError(`realm "${name}" not found`);
  return toSettingsRepresentation(realm);
}

export async function createRealm(deps: AdminDeps, input: unknown): Promise<ImportSummary> {
  try {
    const summary = await importRealm(deps.db, input, { mode: "create", ...(deps.secrets && { secrets: deps.secrets }) });
    deps.changed(summary.realm);
    return summary;
  } catch (e) {
    if (e instanceof RealmExistsError) throw new ConflictError(e.message);
    throw e;
  }
}

export async function updateRealm(deps: AdminDeps, name: string, input: unknown): Promise<RealmSettingsRepresentation> {
  if (!isObject(input)) throw new ValidationError(["body: expected a JSON object"]);
  const store = new RealmStore(deps.db);
  const realm = await store.findByName(name);
  if (!realm) throw new NotFoundError(`realm "${name}" not found`);
  const { clients, users, x509, ldap, ...fields } = input;
  if (clients !== undefined || users !== undefined || x509 !== undefined || ldap !== undefined) {
    throw new ValidationError(["body: clients, users, x509 and ldap are managed through their own endpoints (or realm import)"]);
  }
  const next = parseRepresentation(realmSettingsSchema, { ...toSettingsRepresentation(realm), ...fields });
  if (realm.name === MASTER_REALM && next.realm !== MASTER_REALM) throw new ValidationError(["realm: the master realm cannot be renamed"]);
  if (realm.name === MASTER_REALM && !next.enabled) throw new ValidationError(["enabled: the master realm cannot be disabled"]);
  if (next.realm !== realm.name && (await store.findByName(next.realm))) throw new ConflictError(`realm "${next.realm}" already exists`);
  const updated = await store.update(realm.id, next);
  deps.changed(realm.name);
  deps.changed(updated.name);
  return toSettingsRepresentation(updated);
}

export async function deleteRealm(deps: AdminDeps, name: string): Promise<void> {
  if (name === MASTER_REALM) throw new ValidationError(["realm: the master realm cannot be deleted"]);
  const store = new RealmStore(deps.db);
  const realm = await store.findByName(name);
  if (!realm) throw new NotFoundError(`realm "${name}" not found`);
  await store.delete(realm.id);
  deps.changed(name);
}

/** The realm's id, or NotFoundError. */
export async function realmId(deps: AdminDeps, name: string): Promise<string> {
  const realm = await new RealmStore(deps.db).findByName(name);
  if (!realm) throw new NotFoundError(`realm "${name}" not found`);
  return realm.id;
}
