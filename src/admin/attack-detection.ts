// Keycloak's attack-detection endpoints (AttackDetectionResource) as use cases for the admin API and the CLI: an
// account's brute-force state, clearing one account (which also lifts a permanent lockout), clearing the realm.
import { RealmStore, type Realm } from "../realms/realm-store.ts";
import { BruteForceGuard, type FailureStatus } from "../users/brute-force.ts";
import { isPermanentlyLockedOut, UserStore } from "../users/user-store.ts";
import { NotFoundError } from "./errors.ts";
import type { AdminDeps } from "./realms.ts";

/** Keycloak's JSON: `disabled` while the account is locked, temporarily or permanently. */
export type BruteForceStatus = FailureStatus & { disabled: boolean };

/** `failedLoginNotBefore` of a permanent lockout: Keycloak answers Long.MAX_VALUE, which JSON numbers cannot carry. */
export const PERMANENTLY = Number.MAX_SAFE_INTEGER;

async function findRealm(deps: AdminDeps, name: string): Promise<Realm> {
  const realm = await new RealmStore(deps.db).findByName(name);
  if (!realm) throw new NotFoundError(`realm "${name}" not found`);
  return realm;
}

/** As Keycloak: an unknown user id answers the zeros of an account without failures. */
export async function bruteForceStatus(deps: AdminDeps, realmName: string, userId: string): Promise<BruteForceStatus> {
  const realm = await findRealm(deps, realmName);
  const status = await new BruteForceGuard(deps.db).status(realm.id, realm.bruteForce, userId);
  const user = await new UserStore(deps.db).findById(realm.id, userId);
  if (user && isPermanentlyLockedOut(user)) return { ...status, disabled: true, failedLoginNotBefore: PERMANENTLY };
  return { ...status, disabled: status.failedLoginNotBefore > 0 };
}

/** Clears one account's failures and lock, and enables it again if a permanent lockout disabled it. */
export async function clearBruteForceForUser(deps: AdminDeps, realmName: string, userId: string): Promise<void> {
  const realm = await findRealm(deps, realmName);
  await deps.db.$transaction(async (tx) => {
    await new BruteForceGuard(tx).clearUser(realm.id, userId);
    if (await new UserStore(tx).findById(realm.id, userId)) await new UserStore(tx).releaseLockout(userId);
  });
}

/** Clears every failure and lock of the realm (accounts and addresses) and lifts every permanent lockout. */
export async function clearAllBruteForce(deps: AdminDeps, realmName: string): Promise<void> {
  const realm = await findRealm(deps, realmName);
  await deps.db.$transaction(async (tx) => {
    await new BruteForceGuard(tx).clearAll(realm.id);
    const store = new UserStore(tx);
    for (const id of await store.permanentlyLockedOut(realm.id)) await store.releaseLockout(id);
  });
}
