// The local user store as the X.509 core's UserDirectory, for one realm.
import type { DirectoryUser, UserDirectory } from "../x509/index.ts";
import type { Realm } from "../realms/realm-store.ts";
import type { UserRecord, UserStore } from "./user-store.ts";

const toDirectoryUser = (u: UserRecord): DirectoryUser => ({ id: u.id, username: u.username, email: u.email, enabled: u.enabled });

export function localUserDirectory(users: UserStore, realm: Pick<Realm, "id" | "loginWithEmailAllowed">): UserDirectory {
  return {
    loginWithEmailAllowed: realm.loginWithEmailAllowed,
    findByUsername: async (username) => {
      const u = await users.findByUsername(realm.id, username);
      return u && toDirectoryUser(u);
    },
    findByEmail: async (email) => {
      const u = await users.findByEmail(realm.id, email);
      return u && toDirectoryUser(u);
    },
    findByAttributes: async (pairs, limit) => (await users.findByAttributes(realm.id, pairs, limit)).map(toDirectoryUser),
  };
}
