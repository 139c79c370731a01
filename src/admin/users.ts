// User use cases for the admin API and the CLI. Passwords are stored as argon2id hashes; updates are partial
// (Keycloak's PUT semantics) and never touch the password (reset-password does).
import type { Tx } from "../db/database.ts";
import { UserStore, toUserRepresentation, type UserQuery, type UserRecord } from "../users/user-store.ts";
import { hashPassword, MAX_PASSWORD_LENGTH } from "../users/passwords.ts";
import { ConflictError, NotFoundError, ValidationError } from "./errors.ts";
import { realmId, type AdminDeps } from "./realms.ts";
import { isObject, parseRepresentation, userSchema, type UserRepresentation } from "./representation.ts";

export type UserView = Omit<UserRepresentation, "credentials"> & { id: string; createdTimestamp: number };

export const toUserView = (u: UserRecord): UserView => toUserRepresentation(u, { withCredentials: false });

async function find(deps: AdminDeps, realm: string, id: string): Promise<UserRecord> {
  const rid = await realmId(deps, realm);
  const u = await new UserStore(deps.db).findById(rid, id);
  if (!u) throw new NotFoundError(`user ${id} not found in realm "${realm}"`);
  return u;
}

/** Keycloak's answers for a username or e-mail already taken. */
async function checkUnique(db: Tx, rid: string, u: UserRepresentation, selfId?: string): Promise<void> {
  const users = new UserStore(db);
  const byName = await users.findByUsername(rid, u.username);
  if (byName && byName.id !== selfId) throw new ConflictError("User exists with same username");
  if (u.email) {
    const byEmail = await users.findByEmail(rid, u.email);
    if (byEmail && byEmail.id !== selfId) throw new ConflictError("User exists with same email");
  }
}

export async function listUsers(deps: AdminDeps, realm: string, q: UserQuery): Promise<UserView[]> {
  return (await new UserStore(deps.db).search(await realmId(deps, realm), q)).map(toUserView);
}

export async function getUser(deps: AdminDeps, realm: string, id: string): Promise<UserView> {
  return toUserView(await find(deps, realm, id));
}

/** Validates, then writes the user with its attributes, roles and password in one transaction: all or nothing. */
export async function createUser(deps: AdminDeps, realm: string, input: unknown): Promise<UserView> {
  const rep = parseRepresentation(userSchema, input);
  const rid = await realmId(deps, realm);
  const cred = rep.credentials?.[0];
  // argon2 is deliberately slow: hashed before the transaction opens.
  const hash = cred ? (cred.hash ?? (cred.value !== undefined ? await hashPassword(cred.value) : null)) : null;
  const created = await deps.db.$transaction(async (tx) => {
    await checkUnique(tx, rid, rep);
    return new UserStore(tx).create(rid, rep, hash);
  });
  return toUserView(created);
}

export async function updateUser(deps: AdminDeps, realm: string, id: string, input: unknown): Promise<UserView> {
  if (!isObject(input)) throw new ValidationError(["body: expected a JSON object"]);
  if ("credentials" in input) throw new ValidationError(["credentials: use PUT …/users/{id}/reset-password to change a password"]);
  const current = await find(deps, realm, id);
  const { id: _i, createdTimestamp: _t, ...fields } = input;
  const { id: _ci, createdTimestamp: _ct, ...currentRep } = toUserView(current);
  const next = parseRepresentation(userSchema, { ...currentRep, ...fields });
  const updated = await deps.db.$transaction(async (tx) => {
    await checkUnique(tx, current.realmId, next, current.id);
    return new UserStore(tx).update(current.realmId, current.id, next);
  });
  return toUserView(updated);
}

export async function setPassword(deps: AdminDeps, realm: string, id: string, input: unknown): Promise<void> {
  const value = isObject(input) ? input.value : undefined;
  if (!isObject(input) || (input.type !== undefined && input.type !== "password")) throw new ValidationError(["type: must be \"password\""]);
  if (typeof value !== "string" || value.length === 0) throw new ValidationError(["value: a non-empty password is required"]);
  if (value.length > MAX_PASSWORD_LENGTH) throw new ValidationError([`value: at most ${MAX_PASSWORD_LENGTH} characters`]);
  if (input.temporary === true) throw new ValidationError(["temporary: temporary passwords (required actions) are not supported"]);
  const current = await find(deps, realm, id);
  await new UserStore(deps.db).setPasswordHash(current.id, await hashPassword(value));
}

export async function deleteUser(deps: AdminDeps, realm: string, id: string): Promise<void> {
  const current = await find(deps, realm, id);
  await new UserStore(deps.db).delete(current.id);
}
