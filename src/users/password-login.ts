// Username-or-e-mail + password authentication, shared by the browser login form and the password direct grant.
// Order: find the user → lockout check → password → enabled. The disabled state is revealed only to someone who
// knows the password (Keycloak reveals it before checking the password).
import type { Realm } from "../realms/realm-store.ts";
import type { BruteForceGuard, Lockout } from "./brute-force.ts";
import type { UserRecord, UserStore } from "./user-store.ts";
import { hashPassword, needsRehash, verifyPassword } from "./passwords.ts";

export type PasswordFailure = "invalid_user_credentials" | "user_not_found" | "user_disabled" | "user_temporarily_disabled";

export type PasswordOutcome =
  | { kind: "success"; user: UserRecord }
  | { kind: "failure"; error: PasswordFailure; user?: UserRecord; lockout?: Lockout };

/** Keycloak's findUserByNameOrEmail: by e-mail first only when the realm allows it and the input contains "@". */
export async function findUserByNameOrEmail(users: UserStore, realm: Realm, login: string): Promise<UserRecord | undefined> {
  const name = login.trim();
  if (!name) return undefined;
  if (realm.loginWithEmailAllowed && name.includes("@")) {
    const byEmail = await users.findByEmail(realm.id, name);
    if (byEmail) return byEmail;
  }
  return users.findByUsername(realm.id, name);
}

export async function authenticatePassword(
  deps: { users: UserStore; guard: BruteForceGuard },
  realm: Realm,
  login: string,
  password: string,
  ip: string | undefined,
): Promise<PasswordOutcome> {
  const user = await findUserByNameOrEmail(deps.users, realm, login);
  const lock = await deps.guard.check(realm.id, realm.bruteForce, user?.id, ip);
  if (lock.locked) {
    await verifyPassword(undefined, password); // same cost as a real attempt
    return { kind: "failure", error: "user_temporarily_disabled", ...(user && { user }), lockout: lock };
  }
  const ok = await verifyPassword(user?.passwordHash, password);
  if (!ok) {
    const lockout = await deps.guard.recordFailure(realm.id, realm.bruteForce, user?.id, ip);
    return user
      ? { kind: "failure", error: "invalid_user_credentials", user, lockout }
      : { kind: "failure", error: "user_not_found", lockout };
  }
  if (!user) return { kind: "failure", error: "user_not_found" };
  if (!user.enabled) return { kind: "failure", error: "user_disabled", user };
  await deps.guard.recordSuccess(realm.id, user.id);
  // An imported (Keycloak) or older hash is replaced by a current one while the password is at hand.
  if (user.passwordHash && needsRehash(user.passwordHash)) await deps.users.setPasswordHash(user.id, await hashPassword(password));
  return { kind: "success", user };
}
