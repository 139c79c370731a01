// From an identity to a user (keycloak-x509.md §3.2), over a small user-directory interface: the local user store
// alone, or the local store and the realm's LDAP directory (src/users/federation.ts).
import { splitDelimited, type IdentityOptions } from "../options.ts";
import { javaTrim } from "../strings.ts";

/** What the core needs to know about a user. */
export interface DirectoryUser {
  id: string;
  username: string;
  email: string | null;
  enabled: boolean;
}

export interface UserDirectory {
  /** Whether users may log in with their e-mail address (the realm's setting). */
  readonly loginWithEmailAllowed: boolean;
  findByUsername(username: string): Promise<DirectoryUser | undefined>;
  findByEmail(email: string): Promise<DirectoryUser | undefined>;
  /** Users having every (name, value) pair among their attributes (exact match), at most `limit`. */
  findByAttributes(pairs: readonly { name: string; value: string }[], limit: number): Promise<DirectoryUser[]>;
}

/** The directory could not answer (LDAP down, slow, refusing the service account): the login cannot be decided. */
export class DirectoryUnavailableError extends Error {}

/** Several directory entries match where one is needed (two LDAP entries with one username, say). */
export class DirectoryDuplicateError extends Error {
  readonly count: number;
  constructor(count: number, message = `${count} directory entries match`) {
    super(message);
    this.count = count;
  }
}

export type MappingResult =
  | { kind: "found"; user: DirectoryUser }
  | { kind: "not-found" }
  | { kind: "duplicate"; count: number };

/**
 * Username or Email (KeycloakModelUtils.findUserByNameOrEmail): the trimmed identity, by e-mail first when the realm
 * allows e-mail login and the identity contains "@", then by username.
 */
async function byUsernameOrEmail(identity: string, dir: UserDirectory): Promise<MappingResult> {
  const name = javaTrim(identity);
  if (!name) return { kind: "not-found" };
  if (dir.loginWithEmailAllowed && name.includes("@")) {
    const user = await dir.findByEmail(name);
    if (user) return { kind: "found", user };
  }
  const user = await dir.findByUsername(name);
  return user ? { kind: "found", user } : { kind: "not-found" };
}

/**
 * Custom Attribute Mapper: attribute names and identity are both split on "##"; the lists must have the same length;
 * every (name, value) pair must match exactly (values are not trimmed). One user is found, none is not found, more
 * is a duplicate. Keycloak compares pairs after the first against the *first* value of each attribute; x509-idp
 * accepts any of the attribute's values.
 */
async function byAttributes(identity: string, names: string[], dir: UserDirectory): Promise<MappingResult> {
  const values = splitDelimited(identity);
  if (names.length === 0 || values.length === 0 || names.length !== values.length) return { kind: "not-found" };
  const pairs = names.map((name, i) => ({ name, value: values[i] as string }));
  const users = await dir.findByAttributes(pairs, 2);
  if (users.length === 1) return { kind: "found", user: users[0] as DirectoryUser };
  return users.length === 0 ? { kind: "not-found" } : { kind: "duplicate", count: users.length };
}

/** Maps the identity; a DirectoryUnavailableError from the directory propagates, a DirectoryDuplicateError is a duplicate. */
export async function mapIdentityToUser(identity: string, options: Pick<IdentityOptions, "mapper" | "attributeNames">, dir: UserDirectory): Promise<MappingResult> {
  try {
    return await (options.mapper === "username-email" ? byUsernameOrEmail(identity, dir) : byAttributes(identity, options.attributeNames, dir));
  } catch (e) {
    if (e instanceof DirectoryDuplicateError) return { kind: "duplicate", count: e.count };
    throw e;
  }
}
