// Realms: settings as plain objects; the only module that reads or writes the Realm table.
import { DbNull, type Tx } from "../db/database.ts";
import type { LdapRepresentation, RealmSettingsRepresentation, X509Representation } from "../admin/representation.ts";

export interface Realm {
  id: string;
  name: string;
  displayName: string | null;
  enabled: boolean;
  loginWithEmailAllowed: boolean;
  accessTokenLifespan: number;
  accessCodeLifespan: number;
  accessCodeLifespanLogin: number;
  ssoSessionIdleTimeout: number;
  ssoSessionMaxLifespan: number;
  bruteForce: BruteForceSettings;
  defaultSignatureAlgorithm: "ES256" | "RS256";
  /** The X.509 settings as saved (validated when written), or null when never configured. */
  x509: X509Representation | null;
  /** The LDAP federation as saved, without its bind credential; null: none. */
  ldap: Omit<LdapRepresentation, "bindCredential"> | null;
  /** The bind credential, sealed (config/secret-box.ts, the realm's id as context); null: none. */
  ldapBindCredential: string | null;
  updatedAt: Date;
}

export interface BruteForceSettings {
  enabled: boolean;
  failureFactor: number;
  waitIncrementSeconds: number;
  maxFailureWaitSeconds: number;
  maxDeltaTimeSeconds: number;
  /** Disable the account (after `maxTemporaryLockouts` temporary lockouts; 0: at the first). */
  permanentLockout: boolean;
  maxTemporaryLockouts: number;
  /** Failures from one client address before it is locked; 0: never. */
  ipFailureFactor: number;
  /** Whether ipFailureFactor was set, or is the default 3 × failureFactor. */
  ipFailureFactorSet: boolean;
}

/** An address is locked after this many times the account threshold, unless the realm says otherwise. */
export const IP_FACTOR_MULTIPLIER = 3;

type Row = Awaited<ReturnType<Tx["realm"]["findFirstOrThrow"]>>;

function toRealm(r: Row): Realm {
  return {
    id: r.id,
    name: r.name,
    displayName: r.displayName,
    enabled: r.enabled,
    loginWithEmailAllowed: r.loginWithEmailAllowed,
    accessTokenLifespan: r.accessTokenLifespan,
    accessCodeLifespan: r.accessCodeLifespan,
    accessCodeLifespanLogin: r.accessCodeLifespanLogin,
    ssoSessionIdleTimeout: r.ssoSessionIdleTimeout,
    ssoSessionMaxLifespan: r.ssoSessionMaxLifespan,
    bruteForce: {
      enabled: r.bruteForceProtected,
      failureFactor: r.failureFactor,
      waitIncrementSeconds: r.waitIncrementSeconds,
      maxFailureWaitSeconds: r.maxFailureWaitSeconds,
      maxDeltaTimeSeconds: r.maxDeltaTimeSeconds,
      permanentLockout: r.permanentLockout,
      maxTemporaryLockouts: r.maxTemporaryLockouts,
      ipFailureFactor: r.ipFailureFactor ?? r.failureFactor * IP_FACTOR_MULTIPLIER,
      ipFailureFactorSet: r.ipFailureFactor !== null,
    },
    defaultSignatureAlgorithm: r.defaultSignatureAlgorithm === "RS256" ? "RS256" : "ES256",
    x509: (r.x509 ?? null) as X509Representation | null,
    ldap: (r.ldap ?? null) as Omit<LdapRepresentation, "bindCredential"> | null,
    ldapBindCredential: r.ldapBindCredential,
    updatedAt: r.updatedAt,
  };
}

/** The columns a representation sets (everything but identity and secrets). */
function columns(s: RealmSettingsRepresentation) {
  return {
    name: s.realm,
    displayName: s.displayName ?? null,
    enabled: s.enabled,
    loginWithEmailAllowed: s.loginWithEmailAllowed,
    accessTokenLifespan: s.accessTokenLifespan,
    accessCodeLifespan: s.accessCodeLifespan,
    accessCodeLifespanLogin: s.accessCodeLifespanLogin,
    ssoSessionIdleTimeout: s.ssoSessionIdleTimeout,
    ssoSessionMaxLifespan: s.ssoSessionMaxLifespan,
    bruteForceProtected: s.bruteForceProtected,
    failureFactor: s.failureFactor,
    waitIncrementSeconds: s.waitIncrementSeconds,
    maxFailureWaitSeconds: s.maxFailureWaitSeconds,
    maxDeltaTimeSeconds: s.maxDeltaTimeSeconds,
    permanentLockout: s.permanentLockout,
    maxTemporaryLockouts: s.maxTemporaryLockouts,
    ipFailureFactor: s.ipFailureFactor ?? null,
    defaultSignatureAlgorithm: s.defaultSignatureAlgorithm,
  };
}

export function toSettingsRepresentation(r: Realm): RealmSettingsRepresentation {
  return {
    realm: r.name,
    ...(r.displayName !== null && { displayName: r.displayName }),
    enabled: r.enabled,
    loginWithEmailAllowed: r.loginWithEmailAllowed,
    accessTokenLifespan: r.accessTokenLifespan,
    accessCodeLifespan: r.accessCodeLifespan,
    accessCodeLifespanLogin: r.accessCodeLifespanLogin,
    ssoSessionIdleTimeout: r.ssoSessionIdleTimeout,
    ssoSessionMaxLifespan: r.ssoSessionMaxLifespan,
    bruteForceProtected: r.bruteForce.enabled,
    failureFactor: r.bruteForce.failureFactor,
    waitIncrementSeconds: r.bruteForce.waitIncrementSeconds,
    maxFailureWaitSeconds: r.bruteForce.maxFailureWaitSeconds,
    maxDeltaTimeSeconds: r.bruteForce.maxDeltaTimeSeconds,
    permanentLockout: r.bruteForce.permanentLockout,
    maxTemporaryLockouts: r.bruteForce.maxTemporaryLockouts,
    ...(r.bruteForce.ipFailureFactorSet && { ipFailureFactor: r.bruteForce.ipFailureFactor }),
    defaultSignatureAlgorithm: r.defaultSignatureAlgorithm,
  };
}

export class RealmStore {
  readonly #db: Tx;
  constructor(db: Tx) {
    this.#db = db;
  }

  async findByName(name: string): Promise<Realm | undefined> {
    const r = await this.#db.realm.findUnique({ where: { name } });
    return r ? toRealm(r) : undefined;
  }

  async list(): Promise<Realm[]> {
    return (await this.#db.realm.findMany({ orderBy: { name: "asc" } })).map(toRealm);
  }

  /** A new realm; its cookie and signing keys are created, sealed, when it is first served (oidc/keys.ts). */
  async create(settings: RealmSettingsRepresentation): Promise<Realm> {
    return toRealm(await this.#db.realm.create({ data: { ...columns(settings), cookieKeys: "" } }));
  }

  async update(id: string, settings: RealmSettingsRepresentation): Promise<Realm> {
    return toRealm(await this.#db.realm.update({ where: { id }, data: columns(settings) }));
  }

  /** Replaces the realm's X.509 settings (already validated). */
  async setX509(id: string, x509: X509Representation): Promise<Realm> {
    return toRealm(await this.#db.realm.update({ where: { id }, data: { x509: x509 as object } }));
  }

  /** Replaces the LDAP federation (null removes it); `sealedCredential` undefined keeps the stored credential. */
  async setLdap(id: string, ldap: Omit<LdapRepresentation, "bindCredential"> | null, sealedCredential?: string | null): Promise<Realm> {
    return toRealm(await this.#db.realm.update({
      where: { id },
      data: {
        ldap: ldap === null ? DbNull : (ldap as object),
        ...(ldap === null ? { ldapBindCredential: null } : sealedCredential !== undefined && { ldapBindCredential: sealedCredential }),
      },
    }));
  }

  async delete(id: string): Promise<void> {
    await this.#db.realm.delete({ where: { id } });
  }
}
