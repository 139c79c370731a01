// Users of a realm (the local user directory), as plain objects; the only module that reads or writes the
// User, UserAttribute and UserRole tables.
import type { Tx } from "../db/database.ts";
import { hotSqlOf, readBoolean, readTimestamp, type HotSql } from "../db/hot-sql.ts";
import type { UserRepresentation } from "../admin/representation.ts";
import { addAttributeValue, attributesFrom, emptyAttributes, type Attributes } from "./attributes.ts";

export interface UserRecord {
  id: string;
  realmId: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  enabled: boolean;
  firstName: string | null;
  lastName: string | null;
  passwordHash: string | null;
  /** "ldap": linked to the realm's LDAP directory (profile refreshed from it, password checked by it). */
  federationLink: string | null;
  /** The LDAP entry's uuid attribute value. */
  ldapId: string | null;
  /** No prototype (attributes.ts): names are data. */
  attributes: Attributes;
  realmRoles: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface UserQuery {
  username?: string;
  email?: string;
  /** Substring of username, e-mail, first or last name. */
  search?: string;
  exact?: boolean;
  first?: number;
  max?: number;
}

const withRelations = { attributes: { orderBy: [{ name: "asc" as const }, { position: "asc" as const }] }, roles: true as const };
type Row = Awaited<ReturnType<Tx["user"]["findFirstOrThrow"]>> & {
  attributes: { name: string; value: string }[];
  roles: { role: string }[];
};

function toRecord(r: Row): UserRecord {
  const attributes = emptyAttributes();
  for (const a of r.attributes) addAttributeValue(attributes, a.name, a.value);
  return {
    id: r.id,
    realmId: r.realmId,
    username: r.username,
    email: r.email,
    emailVerified: r.emailVerified,
    enabled: r.enabled,
    firstName: r.firstName,
    lastName: r.lastName,
    passwordHash: r.passwordHash,
    federationLink: r.federationLink,
    ldapId: r.ldapId,
    attributes,
    realmRoles: r.roles.map((x) => x.role).sort(),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function toUserRepresentation(u: UserRecord, options: { withCredentials: boolean }): UserRepresentation & { id: string; createdTimestamp: number } {
  return {
    id: u.id,
    createdTimestamp: u.createdAt.getTime(),
    username: u.username,
    ...(u.email !== null && { email: u.email }),
    emailVerified: u.emailVerified,
    enabled: u.enabled,
    ...(u.firstName !== null && { firstName: u.firstName }),
    ...(u.lastName !== null && { lastName: u.lastName }),
    attributes: u.attributes,
    realmRoles: u.realmRoles,
    ...(options.withCredentials && u.passwordHash !== null && { credentials: [{ type: "password" as const, hash: u.passwordHash }] }),
  };
}

/** Keycloak's marker of an account disabled by brute-force protection (BruteForceProtector.DISABLED_BY_PERMANENT_LOCKOUT). */
export const DISABLED_REASON = "disabledReason";
export const PERMANENT_LOCKOUT = "permanentLockout";

export const isPermanentlyLockedOut = (u: Pick<UserRecord, "attributes">): boolean => u.attributes[DISABLED_REASON]?.includes(PERMANENT_LOCKOUT) === true;

/** The user's display name, as Keycloak builds the `name` claim. */
export function displayName(u: Pick<UserRecord, "firstName" | "lastName">): string | undefined {
  const name = [u.firstName, u.lastName].filter(Boolean).join(" ");
  return name || undefined;
}

function profileColumns(u: UserRepresentation) {
  return {
    username: u.username,
    email: u.email ?? null,
    emailVerified: u.emailVerified,
    enabled: u.enabled,
    firstName: u.firstName ?? null,
    lastName: u.lastName ?? null,
  };
}

const attributeRows = (realmId: string, attributes: Attributes) =>
  Object.entries(attributes).flatMap(([name, values]) => values.map((value, position) => ({ realmId, name, value, position })));

const USER_COLUMNS = `"id", "realmId", "username", "email", "emailVerified", "enabled", "firstName", "lastName", "passwordHash", "federationLink", "ldapId", "createdAt", "updatedAt"`;
const USER_BY = {
  id: `SELECT ${USER_COLUMNS} FROM "User" WHERE "realmId" = $1 AND "id" = $2`,
  ldapId: `SELECT ${USER_COLUMNS} FROM "User" WHERE "realmId" = $1 AND "ldapId" = $2`,
  username: `SELECT ${USER_COLUMNS} FROM "User" WHERE "realmId" = $1 AND "username" = $2`,
  email: `SELECT ${USER_COLUMNS} FROM "User" WHERE "realmId" = $1 AND "email" = $2`,
} as const;
const USER_ATTRIBUTES = `SELECT "name", "value" FROM "UserAttribute" WHERE "userId" = $1 ORDER BY "name", "position"`;
const USER_ROLES = `SELECT "role" FROM "UserRole" WHERE "userId" = $1`;

interface HotUserRow {
  id: string; realmId: string; username: string; email: string | null; emailVerified: unknown; enabled: unknown;
  firstName: string | null; lastName: string | null; passwordHash: string | null; federationLink: string | null; ldapId: string | null;
  createdAt: unknown; updatedAt: unknown;
}

/** No stored value holds NUL (PostgreSQL text cannot): a lookup for one answers "nobody" without asking. */
const findable = (v: string) => !v.includes("\u0000");

/** A user by one unique column, on the hot path (every login): three prepared statements, no query engine. */
async function hotFind(hot: HotSql, by: keyof typeof USER_BY, realmId: string, value: string): Promise<UserRecord | undefined> {
  const [u] = await hot.all<HotUserRow>(USER_BY[by], [realmId, value]);
  if (!u) return undefined;
  const [attrs, roles] = await Promise.all([hot.all<{ name: string; value: string }>(USER_ATTRIBUTES, [u.id]), hot.all<{ role: string }>(USER_ROLES, [u.id])]);
  const attributes = emptyAttributes();
  for (const a of attrs) addAttributeValue(attributes, a.name, a.value);
  return {
    id: u.id, realmId: u.realmId, username: u.username, email: u.email, emailVerified: readBoolean(u.emailVerified), enabled: readBoolean(u.enabled),
    firstName: u.firstName, lastName: u.lastName, passwordHash: u.passwordHash, federationLink: u.federationLink, ldapId: u.ldapId, attributes, realmRoles: roles.map((r) => r.role).sort(),
    createdAt: readTimestamp(u.createdAt) as Date, updatedAt: readTimestamp(u.updatedAt) as Date,
  };
}

export class UserStore {
  readonly #db: Tx;
  readonly #hot: HotSql | undefined;
  constructor(db: Tx) {
    this.#db = db;
    this.#hot = hotSqlOf(db);
  }

  /** A user by one unique column (with the realm): prepared statements when the database has them, else Prisma. */
  async #findOne(by: keyof typeof USER_BY, realmId: string, value: string): Promise<UserRecord | undefined> {
    if (!findable(value)) return undefined;
    if (this.#hot) return hotFind(this.#hot, by, realmId, value);
    const r = await this.#db.user.findFirst({ where: { realmId, [by]: value }, include: withRelations });
    return r ? toRecord(r) : undefined;
  }

  findById(realmId: string, id: string): Promise<UserRecord | undefined> {
    return this.#findOne("id", realmId, id);
  }

  findByUsername(realmId: string, username: string): Promise<UserRecord | undefined> {
    return this.#findOne("username", realmId, username.toLowerCase());
  }

  findByEmail(realmId: string, email: string): Promise<UserRecord | undefined> {
    return this.#findOne("email", realmId, email.toLowerCase());
  }

  findByLdapId(realmId: string, ldapId: string): Promise<UserRecord | undefined> {
    return this.#findOne("ldapId", realmId, ldapId);
  }

  /**
   * Users having every (name, value) pair as an attribute (exact match; uses the attribute index). `localOnly`: users
   * not linked to LDAP (whose attributes LDAP answers for).
   */
  async findByAttributes(realmId: string, pairs: readonly { name: string; value: string }[], limit = 2, localOnly = false): Promise<UserRecord[]> {
    if (pairs.length === 0 || pairs.some((p) => !findable(p.name) || !findable(p.value))) return [];
    const rows = await this.#db.user.findMany({
      where: { realmId, ...(localOnly && { federationLink: null }), AND: pairs.map(({ name, value }) => ({ attributes: { some: { realmId, name, value } } })) },
      include: withRelations,
      take: limit,
    });
    return rows.map(toRecord);
  }

  async search(realmId: string, q: UserQuery): Promise<UserRecord[]> {
    const text = (field: "username" | "email", v: string) =>
      q.exact ? { [field]: v.toLowerCase() } : { [field]: { contains: v.toLowerCase() } };
    const where = {
      realmId,
      ...(q.username !== undefined && text("username", q.username)),
      ...(q.email !== undefined && text("email", q.email)),
      ...(q.search !== undefined && {
        OR: [
          { username: { contains: q.search.toLowerCase() } },
          { email: { contains: q.search.toLowerCase() } },
          { firstName: { contains: q.search } },
          { lastName: { contains: q.search } },
        ],
      }),
    };
    const rows = await this.#db.user.findMany({
      where,
      include: withRelations,
      orderBy: { username: "asc" },
      skip: q.first ?? 0,
      take: Math.min(q.max ?? 100, 1000),
    });
    return rows.map(toRecord);
  }

  async count(realmId: string): Promise<number> {
    return this.#db.user.count({ where: { realmId } });
  }

  async create(realmId: string, u: UserRepresentation, passwordHash: string | null): Promise<UserRecord> {
    const r = await this.#db.user.create({
      data: {
        realmId,
        ...profileColumns(u),
        passwordHash,
        attributes: { create: attributeRows(realmId, u.attributes) },
        roles: { create: u.realmRoles.map((role) => ({ role })) },
      },
      include: withRelations,
    });
    return toRecord(r);
  }

  /** Replaces profile, attributes and roles; `passwordHash` undefined keeps the stored password. */
  async update(realmId: string, id: string, u: UserRepresentation, passwordHash?: string | null): Promise<UserRecord> {
    await this.#db.userAttribute.deleteMany({ where: { userId: id } });
    await this.#db.userRole.deleteMany({ where: { userId: id } });
    const r = await this.#db.user.update({
      where: { id },
      data: {
        ...profileColumns(u),
        ...(passwordHash !== undefined && { passwordHash }),
        attributes: { create: attributeRows(realmId, u.attributes) },
        roles: { create: u.realmRoles.map((role) => ({ role })) },
      },
      include: withRelations,
    });
    return toRecord(r);
  }

  /** A new user linked to an LDAP entry (no password: LDAP checks it). */
  async createLinked(realmId: string, u: UserRepresentation, link: { federationLink: string; ldapId: string }): Promise<UserRecord> {
    const r = await this.#db.user.create({
      data: {
        realmId,
        ...profileColumns(u),
        passwordHash: null,
        ...link,
        attributes: { create: attributeRows(realmId, u.attributes) },
      },
      include: withRelations,
    });
    return toRecord(r);
  }

  /** Refreshes a linked user's profile and the attributes named in `replace` (others, and roles, are kept). */
  async refreshLinked(realmId: string, id: string, u: Omit<UserRepresentation, "realmRoles">, replace: readonly string[]): Promise<UserRecord> {
    await this.#db.userAttribute.deleteMany({ where: { userId: id, name: { in: [...replace] } } });
    const r = await this.#db.user.update({
      where: { id },
      data: {
        ...profileColumns({ ...u, realmRoles: [] }),
        attributes: { create: attributeRows(realmId, attributesFrom(Object.entries(u.attributes).filter(([name]) => replace.includes(name)))) },
      },
      include: withRelations,
    });
    return toRecord(r);
  }

  /** Keycloak's permanent lockout: the account disabled, with the attribute disabledReason=permanentLockout (run in a transaction). */
  async lockOut(realmId: string, id: string): Promise<void> {
    await this.#db.userAttribute.deleteMany({ where: { userId: id, name: DISABLED_REASON } });
    await this.#db.userAttribute.create({ data: { userId: id, realmId, name: DISABLED_REASON, value: PERMANENT_LOCKOUT } });
    await this.#db.user.update({ where: { id }, data: { enabled: false } });
  }

  /** The ids of the realm's accounts disabled by a permanent lockout. */
  async permanentlyLockedOut(realmId: string): Promise<string[]> {
    const rows = await this.#db.userAttribute.findMany({ where: { realmId, name: DISABLED_REASON, value: PERMANENT_LOCKOUT }, select: { userId: true } });
    return [...new Set(rows.map((r) => r.userId))];
  }

  /** Enables an account a permanent lockout disabled (an account disabled by an administrator stays disabled). */
  async releaseLockout(id: string): Promise<boolean> {
    const { count } = await this.#db.userAttribute.deleteMany({ where: { userId: id, name: DISABLED_REASON, value: PERMANENT_LOCKOUT } });
    if (count > 0) await this.#db.user.update({ where: { id }, data: { enabled: true } });
    return count > 0;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.#db.user.update({ where: { id }, data: { passwordHash } });
  }

  async delete(id: string): Promise<void> {
    await this.#db.user.delete({ where: { id } });
  }
}
