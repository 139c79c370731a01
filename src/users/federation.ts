// A realm's users as the login flows see them: the local store and, when the realm has LDAP federation, the
// directory. Lookups ask local users and LDAP in the realm's order of precedence; an LDAP user found is linked to a
// local record (created once, keyed by the entry's uuid, so `sub` stays stable) whose profile and mapped attributes
// are refreshed from the entry at every login, in one transaction. A linked user's password is checked by LDAP.
// LDAP failures become DirectoryUnavailableError (the login cannot be decided) and are reported for health.
import type { Prisma } from "../db/database.ts";
import { LdapUnavailableError } from "../ldap/connection.ts";
import type { AttributePair, LdapDirectory, LdapMatch, LdapUser } from "../ldap/directory.ts";
import type { LdapProviders } from "../ldap/providers.ts";
import type { Realm } from "../realms/realm-store.ts";
import { DirectoryDuplicateError, DirectoryUnavailableError } from "../x509/index.ts";
import { isPermanentlyLockedOut, UserStore, type UserRecord } from "./user-store.ts";
import { usernameProblem } from "./username.ts";

export const LDAP_LINK = "ldap";

/** A user as found: for an LDAP user, the entry's DN as read during this lookup. */
export type FoundUser = UserRecord & { ldapDn?: string };

const isUniqueViolation = (e: unknown) => typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";

const sameValues = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === (b ?? [])[i]);

export class RealmUsers {
  readonly realm: Realm;
  readonly store: UserStore;
  readonly #db: Prisma;
  readonly #ldap: LdapDirectory | undefined;
  readonly #providers: LdapProviders | undefined;

  constructor(db: Prisma, realm: Realm, ldap?: { directory: LdapDirectory; providers: LdapProviders }) {
    this.#db = db;
    this.realm = realm;
    this.store = new UserStore(db);
    this.#ldap = ldap?.directory;
    this.#providers = ldap?.providers;
  }

  /** Whether this realm's users include an LDAP directory. */
  get federated(): boolean {
    return this.#ldap !== undefined;
  }

  findByUsername(username: string): Promise<FoundUser | undefined> {
    return this.#find(() => this.store.findByUsername(this.realm.id, username), (d) => d.byUsername(username));
  }

  findByEmail(email: string): Promise<FoundUser | undefined> {
    return this.#find(() => this.store.findByEmail(this.realm.id, email), (d) => d.byEmail(email));
  }

  /**
   * Users having every pair. Certificate attributes (mapped to LDAP as certificates) are never in the local store;
   * other names are looked up among local users, and in LDAP when every name is mapped there.
   */
  async findByAttributes(pairs: readonly AttributePair[], limit: number): Promise<FoundUser[]> {
    const ldap = this.#ldap;
    const names = pairs.map((p) => p.name);
    const local = () => (ldap && names.some((n) => ldap.isCertificateAttribute(n)) ? Promise.resolve([]) : this.store.findByAttributes(this.realm.id, pairs, limit, ldap !== undefined));
    if (!ldap) return local();
    const remote = async () => {
      const user = ldap.canSearch(names) ? await this.#fromLdap((d) => d.byAttributes(pairs, limit)) : undefined;
      return user ? [user] : [];
    };
    return this.#inPrecedence(local, remote, (found) => found.length > 0);
  }

  /** Checks a password: by a bind as the user for an LDAP user, else the stored hash is the caller's business. */
  async verifyLdapPassword(user: FoundUser, password: string): Promise<boolean> {
    const ldap = this.#ldap;
    if (!ldap || user.federationLink !== LDAP_LINK || user.ldapId === null) return false;
    if (password === "") return false;
    let dn = user.ldapDn;
    if (dn === undefined) {
      const match = await this.#ask((d) => d.byId(user.ldapId as string));
      dn = match.users.length === 1 ? match.users[0]?.dn : undefined;
      if (dn === undefined) return false;
    }
    const bindDn = dn;
    return this.#guarded(() => ldap.connection.verifyPassword(bindDn, password));
  }

  /** Disables an account by permanent lockout, in one transaction (brute-force.ts decided it). */
  async lockOut(user: UserRecord): Promise<void> {
    await this.#db.$transaction((tx) => new UserStore(tx).lockOut(this.realm.id, user.id));
  }

  /** Whether LDAP answers for this user's password (a linked user of a federated realm). */
  isLdapUser(user: UserRecord): boolean {
    return this.#ldap !== undefined && user.federationLink === LDAP_LINK;
  }

  async #find(local: () => Promise<UserRecord | undefined>, remote: (d: LdapDirectory) => Promise<LdapMatch>): Promise<FoundUser | undefined> {
    if (!this.#ldap) return local();
    // A linked record is an LDAP user: LDAP says whether it still exists, and what it looks like now.
    const unlinked = async () => {
      const u = await local();
      return u?.federationLink === null ? u : undefined;
    };
    return this.#inPrecedence<FoundUser | undefined>(unlinked, () => this.#fromLdap(remote), (u) => u !== undefined);
  }

  /** The first answer that found someone, asking local users and LDAP in the realm's order of precedence. */
  async #inPrecedence<T>(local: () => Promise<T>, ldap: () => Promise<T>, found: (answer: T) => boolean): Promise<T> {
    const [first, second] = this.#ldap?.settings.precedence === "ldap" ? [ldap, local] : [local, ldap];
    const answer = await first();
    return found(answer) ? answer : second();
  }

  async #fromLdap(remote: (d: LdapDirectory) => Promise<LdapMatch>): Promise<FoundUser | undefined> {
    const match = await this.#ask(remote);
    if (match.truncated || match.users.length > 1) throw new DirectoryDuplicateError(Math.max(match.users.length, 2), "several LDAP users match");
    const [entry] = match.users;
    return entry && this.#link(entry);
  }

  async #guarded<T>(op: () => Promise<T>): Promise<T> {
    const ldap = this.#ldap as LdapDirectory;
    const started = performance.now();
    try {
      const result = await op();
      this.#providers?.succeeded(this.realm, (performance.now() - started) / 1000);
      return result;
    } catch (e) {
      if (!(e instanceof LdapUnavailableError)) throw e;
      this.#providers?.failed(this.realm, ldap.connection.url, e.message, (performance.now() - started) / 1000);
      throw new DirectoryUnavailableError(`LDAP: ${e.message}`, { cause: e });
    }
  }

  #ask(remote: (d: LdapDirectory) => Promise<LdapMatch>): Promise<LdapMatch> {
    return this.#guarded(() => remote(this.#ldap as LdapDirectory));
  }

  /**
   * The local record of an LDAP user: created at first sight, refreshed when the entry changed. An entry whose name
   * people could not tell from another's (username.ts) is not linked: it finds nobody.
   */
  async #link(entry: LdapUser): Promise<FoundUser | undefined> {
    if (usernameProblem(entry.username, { asciiPunctuation: false }) !== undefined) return undefined;
    const ldap = this.#ldap as LdapDirectory;
    const mapped = ldap.settings.attributeMappers.filter((m) => !m.certificate).map((m) => m.name);
    const existing = await this.store.findByLdapId(this.realm.id, entry.id);
    const profile = {
      username: entry.username,
      ...(entry.email !== undefined && { email: entry.email }),
      emailVerified: existing !== undefined && existing.email === (entry.email ?? null) ? existing.emailVerified : false,
      // A permanent lockout is x509-idp's decision: LDAP saying "enabled" does not lift it.
      enabled: entry.enabled && !(existing && isPermanentlyLockedOut(existing)),
      ...(entry.firstName !== undefined && { firstName: entry.firstName }),
      ...(entry.lastName !== undefined && { lastName: entry.lastName }),
      attributes: entry.attributes,
    };
    try {
      if (existing) {
        const unchanged = existing.username === entry.username && existing.email === (entry.email ?? null) && existing.enabled === profile.enabled &&
          existing.firstName === (entry.firstName ?? null) && existing.lastName === (entry.lastName ?? null) &&
          mapped.every((n) => sameValues(existing.attributes[n], entry.attributes[n]));
        if (unchanged) return { ...existing, ldapDn: entry.dn };
        const updated = await this.#db.$transaction((tx) => new UserStore(tx).refreshLinked(this.realm.id, existing.id, profile, mapped));
        return { ...updated, ldapDn: entry.dn };
      }
      const created = await this.#db.$transaction((tx) => new UserStore(tx).createLinked(this.realm.id, { ...profile, realmRoles: [] }, { federationLink: LDAP_LINK, ldapId: entry.id }));
      return { ...created, ldapDn: entry.dn };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      // Another node linked this entry at the same moment: its record is this one's.
      const linked = existing ? undefined : await this.store.findByLdapId(this.realm.id, entry.id);
      if (linked) return { ...linked, ldapDn: entry.dn };
      // Another user (local, or linked to another entry) has this username or e-mail: two accounts claim one name.
      throw new DirectoryDuplicateError(2, `the LDAP user "${entry.username}" has the username or e-mail of another user`);
    }
  }
}
