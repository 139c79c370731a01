// Username-or-e-mail + password authentication, shared by the browser login form and the password direct grant.
// Order: find the user → lockout check → password → enabled. The disabled state is revealed only to someone who
// knows the password (Keycloak reveals it before checking the password).
import type { EventType } from "../events/event-store.ts";
import type { Realm } from "../realms/realm-store.ts";
import { DirectoryDuplicateError, DirectoryUnavailableError } from "../x509/index.ts";
import type { BruteForceGuard, Lockout } from "./brute-force.ts";
import type { FoundUser, RealmUsers } from "./federation.ts";
import type { UserRecord } from "./user-store.ts";
import { hashPassword, needsRehash, verifyPassword } from "./passwords.ts";

/** `directory_unavailable`: LDAP did not answer, so nothing could be decided (x509-idp's own error). */
export type PasswordFailure = "invalid_user_credentials" | "user_not_found" | "user_disabled" | "user_temporarily_disabled" | "directory_unavailable";

export type PasswordOutcome =
  | { kind: "success"; user: UserRecord }
  | { kind: "failure"; error: PasswordFailure; user?: UserRecord; lockout?: Lockout; detail?: string };

/**
 * Keycloak's findUserByNameOrEmail: by e-mail first only when the realm allows it and the input contains "@". Two
 * LDAP entries for one name find nobody.
 */
export async function findUserByNameOrEmail(users: RealmUsers, realm: Realm, login: string): Promise<FoundUser | undefined> {
  const name = login.trim();
  if (!name) return undefined;
  try {
    if (realm.loginWithEmailAllowed && name.includes("@")) {
      const byEmail = await users.findByEmail(name);
      if (byEmail) return byEmail;
    }
    return await users.findByUsername(name);
  } catch (e) {
    if (e instanceof DirectoryDuplicateError) return undefined;
    throw e;
  }
}

export async function authenticatePassword(
  deps: { users: RealmUsers; guard: BruteForceGuard },
  realm: Realm,
  login: string,
  password: string,
  ip: string | undefined,
): Promise<PasswordOutcome> {
  try {
    return await attempt(deps, realm, login, password, ip);
  } catch (e) {
    if (e instanceof DirectoryUnavailableError) return { kind: "failure", error: "directory_unavailable", detail: e.message };
    throw e;
  }
}

async function attempt(deps: { users: RealmUsers; guard: BruteForceGuard }, realm: Realm, login: string, password: string, ip: string | undefined): Promise<PasswordOutcome> {
  const user = await findUserByNameOrEmail(deps.users, realm, login);
  const lock = await deps.guard.check(realm.id, realm.bruteForce, user?.id, ip);
  if (lock.locked) {
    await verifyPassword(undefined, password); // same cost as a real attempt
    return { kind: "failure", error: "user_temporarily_disabled", ...(user && { user }), lockout: lock };
  }
  // An LDAP user's password is checked by a bind as that user (an empty one never reaches the server).
  const ok = user && deps.users.isLdapUser(user) ? await deps.users.verifyLdapPassword(user, password) : await verifyPassword(user?.passwordHash, password);
  if (!ok) {
    const lockout = await deps.guard.recordFailure(realm.id, realm.bruteForce, user?.id, ip);
    if (lockout.permanent && user) await deps.users.lockOut(user);
    return user
      ? { kind: "failure", error: "invalid_user_credentials", user, lockout }
      : { kind: "failure", error: "user_not_found", lockout };
  }
  if (!user) return { kind: "failure", error: "user_not_found" };
  if (!user.enabled) return { kind: "failure", error: "user_disabled", user };
  await deps.guard.recordSuccess(realm.id, user.id);
  // An imported (Keycloak) or older hash is replaced by a current one while the password is at hand.
  if (user.passwordHash && !deps.users.isLdapUser(user) && needsRehash(user.passwordHash)) await deps.users.store.setPasswordHash(user.id, await hashPassword(password));
  return { kind: "success", user };
}

/**
 * Keycloak's event when this failure locked the account: USER_DISABLED_BY_TEMPORARY_LOCKOUT or
 * USER_DISABLED_BY_PERMANENT_LOCKOUT (with the reason Keycloak gives); none for an address lock or no lock.
 */
export function lockoutEvent(outcome: PasswordOutcome): { type: EventType; userId: string; details: Record<string, string> } | undefined {
  if (outcome.kind !== "failure" || !outcome.user || outcome.lockout?.by !== "user" || outcome.error === "user_temporarily_disabled") return undefined;
  return outcome.lockout.permanent
    ? { type: "USER_DISABLED_BY_PERMANENT_LOCKOUT", userId: outcome.user.id, details: { reason: "brute_force_attack detected" } }
    : { type: "USER_DISABLED_BY_TEMPORARY_LOCKOUT", userId: outcome.user.id, details: { until: outcome.lockout.until?.toISOString() ?? "" } };
}
