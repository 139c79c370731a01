// oidc-provider's findAccount: the user behind `sub` (the user id, stable across renames) and the claims of each
// scope. Disabled or deleted users are not found, so their sessions and tokens stop working at once.
import type { Account, FindAccount } from "oidc-provider";
import type { UserRecord, UserStore } from "../users/user-store.ts";
import { displayName } from "../users/user-store.ts";

/**
 * Which claims each scope releases (Keycloak's default profile and email client scopes). `auth_time` and `amr` ride
 * on openid so every ID token says when and how the user authenticated (Keycloak always sends auth_time); they come
 * from the login, never from userinfo. The null entries are oidc-provider's standalone claims.
 */
export const CLAIMS = {
  acr: null,
  sid: null,
  iss: null,
  openid: ["sub", "auth_time", "amr"],
  profile: ["name", "given_name", "family_name", "preferred_username", "updated_at"],
  email: ["email", "email_verified"],
} as const;

export function toAccount(u: UserRecord): Account {
  return {
    accountId: u.id,
    async claims() {
      return {
        sub: u.id,
        preferred_username: u.username,
        name: displayName(u),
        given_name: u.firstName ?? undefined,
        family_name: u.lastName ?? undefined,
        updated_at: Math.floor(u.updatedAt.getTime() / 1000),
        email: u.email ?? undefined,
        email_verified: u.email ? u.emailVerified : undefined,
      };
    },
  };
}

export function accountFinder(users: UserStore, realmId: string): FindAccount {
  return async (_ctx, sub) => {
    const u = await users.findById(realmId, sub);
    return u?.enabled ? toAccount(u) : undefined;
  };
}
