// The local user store as the X.509 core's UserDirectory, for one realm.
import type { DirectoryUser, UserDirectory } from "../x509/index.ts";
import type { Realm } from "../realms/realm-store.ts";
import type { UserRecord, UserStore } from "./user-store.ts";

const toDirectoryUser = (u: UserRecord): DirectoryUser => ({ id: u.id, username: u.username, email: u.email, enabled: u.enabled });

/** `seen`, when given, collects the full records of the users found (so a flow need not read them again). */
export function localUserDirectory(users: UserStore, realm: Pick<Realm, "id" | "loginWithEmailAllowed">, seen?: Map<string, UserRecord>): UserDirectory {
  const keep = (u: UserRecord) => {
    seen?.set(u.id, u);
    return toDirectoryUser(u);
  };
  return {
    loginWithEmailAllowed: realm.loginWithEmailAllowed,
    findByUsername: async (username) => {
      const u = await users.findByUsername(realm.id, username);
      return u && keep(u);
    },
    findByEmail: async (email) => {
      const u = await users.findByEmail(realm.id, email);
      return u && keep(u);
    },
    findByAttributes: async (pairs, limit) => (await users.findByAttributes(realm.id, pairs, limit)).map(keep),
  };
}
