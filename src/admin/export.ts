// Realm export: the realm representation with every client and user, secrets and passwords as argon2id hashes
// (never plaintext), so that the file imports with working credentials. Signing keys and sessions are not exported.
import type { Tx } from "../db/database.ts";
import { ClientStore, toClientRepresentation } from "../realms/client-store.ts";
import { RealmStore, toSettingsRepresentation } from "../realms/realm-store.ts";
import { UserStore, toUserRepresentation } from "../users/user-store.ts";
import { ldapRepresentation } from "./ldap.ts";
import type { RealmRepresentation } from "./representation.ts";

export async function exportRealm(db: Tx, name: string): Promise<RealmRepresentation | undefined> {
  const realm = await new RealmStore(db).findByName(name);
  if (!realm) return undefined;
  const clients = await new ClientStore(db).list(realm.id);
  const users = new UserStore(db);
  const all = [];
  for (let first = 0; ; first += 1000) {
    const page = await users.search(realm.id, { first, max: 1000 });
    all.push(...page);
    if (page.length < 1000) break;
  }
  return {
    ...toSettingsRepresentation(realm),
    ...(realm.x509 && { x509: realm.x509 }),
    // The bind credential is written as the mask: an import into the same realm keeps the stored one.
    ...(realm.ldap && { ldap: ldapRepresentation(realm) }),
    clients: clients.map((c) => {
      const { id: _id, ...rep } = toClientRepresentation(c);
      return rep;
    }),
    // Users linked to LDAP come from the directory (their profile is LDAP's): they are not exported.
    users: all.filter((u) => u.federationLink === null).map((u) => {
      const { id: _id, createdTimestamp: _t, ...rep } = toUserRepresentation(u, { withCredentials: true });
      return rep;
    }),
  };
}
