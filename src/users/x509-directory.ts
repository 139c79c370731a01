// A realm's users (local store, and LDAP when federated) as the X.509 core's UserDirectory.
import type { DirectoryUser, UserDirectory } from "../x509/index.ts";
import type { FoundUser, RealmUsers } from "./federation.ts";
import type { UserRecord } from "./user-store.ts";

const toDirectoryUser = (u: UserRecord): DirectoryUser => ({ id: u.id, username: u.username, email: u.email, enabled: u.enabled });

/** `seen`, when given, collects the full records of the users found (so a flow need not read them again). */
export function realmUserDirectory(users: RealmUsers, seen?: Map<string, FoundUser>): UserDirectory {
  const keep = (u: FoundUser) => {
    seen?.set(u.id, u);
    return toDirectoryUser(u);
  };
  return {
    loginWithEmailAllowed: users.realm.loginWithEmailAllowed,
    findByUsername: async (username) => {
      const u = await users.findByUsername(username);
      return u && keep(u);
    },
    findByEmail: async (email) => {
      const u = await users.findByEmail(email);
      return u && keep(u);
    },
    findByAttributes: async (pairs, limit) => (await users.findByAttributes(pairs, limit)).map(keep),
  };
}
