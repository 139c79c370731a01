// Password brute-force protection: failures counted per user and per client IP address, temporary lockout with a
// growing wait, and Keycloak's permanent lockout. The wait follows Keycloak's BruteForceProtector: waitIncrement ×
// ⌊failures / failureFactor⌋, capped at maxFailureWait; counters restart after maxDeltaTime without failures (not in
// permanent-only mode). With permanentLockout the account is disabled once its temporary lockouts exceed
// maxTemporaryLockouts (0: at the first). An IP address is locked after ipFailureFactor failures across accounts
// (default three times the user threshold), so one address cannot spray passwords across many accounts.
// While locked, even the right password fails, with the same message as a wrong one (no account-state oracle).
// Only password logins are counted and refused: a certificate proves possession and is not what is being guessed.
import type { Tx } from "../db/database.ts";
import { hotSqlOf, readTimestamp, type HotSql } from "../db/hot-sql.ts";
import type { BruteForceSettings } from "../realms/realm-store.ts";

export interface Lockout {
  locked: boolean;
  /** Which counter locked: the account or the client address. */
  by?: "user" | "ip";
  until?: Date;
  /** This failure disabled the account (permanentLockout): the caller disables the user. */
  permanent?: boolean;
}

/** Keycloak's attack-detection view of one account (AttackDetectionResource), less `disabled`, which needs the user. */
export interface FailureStatus {
  numFailures: number;
  numTemporaryLockouts: number;
  /** Milliseconds since the epoch; 0: none. */
  lastFailure: number;
  lastIPFailure: string;
  /** Seconds since the epoch until which the account is temporarily locked; 0: not locked. */
  failedLoginNotBefore: number;
}

export const NO_FAILURES: FailureStatus = { numFailures: 0, numTemporaryLockouts: 0, lastFailure: 0, lastIPFailure: "n/a", failedLoginNotBefore: 0 };

/** The lock check runs on every password login: a prepared statement (db/hot-sql.ts). */
const LOCKED = `SELECT "key", "lockedUntil" FROM "LoginFailure" WHERE "realmId" = $1 AND ("key" = $2 OR "key" = $3) AND "lockedUntil" > $4`;

const userKey = (userId: string) => `user:${userId}`;

export class BruteForceGuard {
  readonly #db: Tx;
  readonly #now: () => number;
  readonly #hot: HotSql | undefined;

  constructor(db: Tx, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    this.#hot = hotSqlOf(db);
  }

  static keys(userId: string | undefined, ip: string | undefined, settings?: BruteForceSettings): { user?: string; ip?: string } {
    return { ...(userId && { user: userKey(userId) }), ...(ip && settings?.ipFailureFactor !== 0 && { ip: `ip:${ip}` }) };
  }

  async check(realmId: string, settings: BruteForceSettings, userId?: string, ip?: string): Promise<Lockout> {
    if (!settings.enabled) return { locked: false };
    const { user, ip: ipKey } = BruteForceGuard.keys(userId, ip, settings);
    const now = this.#now();
    const keys = [user, ipKey].filter((k): k is string => !!k);
    if (keys.length === 0) return { locked: false };
    if (this.#hot) {
      const locked = await this.#hot.all<{ key: string; lockedUntil: unknown }>(LOCKED, [realmId, keys[0], keys[1] ?? keys[0], this.#hot.timestamp(new Date(now))]);
      const hit = locked.find((r) => r.key === user) ?? locked[0];
      return hit ? { locked: true, by: hit.key === user ? "user" : "ip", until: readTimestamp(hit.lockedUntil) as Date } : { locked: false };
    }
    const locked = (await this.#db.loginFailure.findMany({ where: { realmId, key: { in: keys } } })).filter((r) => r.lockedUntil && r.lockedUntil.getTime() > now);
    const hit = locked.find((r) => r.key === user) ?? locked[0];
    return hit ? { locked: true, by: hit.key === user ? "user" : "ip", until: hit.lockedUntil as Date } : { locked: false };
  }

  /** Counts a failed password; returns the lockout it caused, if any. */
  async recordFailure(realmId: string, settings: BruteForceSettings, userId?: string, ip?: string): Promise<Lockout> {
    if (!settings.enabled) return { locked: false };
    const { user, ip: ipKey } = BruteForceGuard.keys(userId, ip, settings);
    let result: Lockout = { locked: false };
    if (user) result = await this.#count(realmId, user, settings, settings.failureFactor, ip, true);
    if (ipKey) {
      const byIp = await this.#count(realmId, ipKey, settings, settings.ipFailureFactor, ip, false);
      if (byIp.locked && !result.locked) result = { ...byIp, by: "ip" };
    }
    return result;
  }

  /** A successful password login clears the account's counter (the address counter only decays). */
  async recordSuccess(realmId: string, userId: string): Promise<void> {
    await this.#db.loginFailure.deleteMany({ where: { realmId, key: userKey(userId) } });
  }

  /** One account's failures, for the admin API (Keycloak's zeros when there are none or protection is off). */
  async status(realmId: string, settings: BruteForceSettings, userId: string): Promise<FailureStatus> {
    if (!settings.enabled) return NO_FAILURES;
    const row = await this.#db.loginFailure.findUnique({ where: { realmId_key: { realmId, key: userKey(userId) } } });
    if (!row) return NO_FAILURES;
    const until = row.lockedUntil && row.lockedUntil.getTime() > this.#now() ? Math.floor(row.lockedUntil.getTime() / 1000) : 0;
    return { numFailures: row.failures, numTemporaryLockouts: row.temporaryLockouts, lastFailure: row.lastFailure.getTime(), lastIPFailure: row.lastIp ?? "n/a", failedLoginNotBefore: until };
  }

  /** Forgets one account's failures and lock. */
  async clearUser(realmId: string, userId: string): Promise<void> {
    await this.#db.loginFailure.deleteMany({ where: { realmId, key: userKey(userId) } });
  }

  /** Forgets every failure and lock of the realm: accounts and addresses. */
  async clearAll(realmId: string): Promise<number> {
    return (await this.#db.loginFailure.deleteMany({ where: { realmId } })).count;
  }

  /** Deletes counters that no longer count (no failure within the realm's maxDeltaTime, not locked); returns how many. */
  async sweep(): Promise<number> {
    const now = this.#now();
    let deleted = 0;
    for (const r of await this.#db.realm.findMany({ select: { id: true, maxDeltaTimeSeconds: true, permanentLockout: true, maxTemporaryLockouts: true } })) {
      // Permanent-only counters never restart, so they are never stale.
      if (r.permanentLockout && r.maxTemporaryLockouts === 0) continue;
      const { count } = await this.#db.loginFailure.deleteMany({
        where: {
          realmId: r.id,
          lastFailure: { lt: new Date(now - r.maxDeltaTimeSeconds * 1000) },
          OR: [{ lockedUntil: null }, { lockedUntil: { lt: new Date(now) } }],
        },
      });
      deleted += count;
    }
    return deleted;
  }

  async #count(realmId: string, key: string, s: BruteForceSettings, threshold: number, ip: string | undefined, account: boolean): Promise<Lockout> {
    const now = this.#now();
    const where = { realmId_key: { realmId, key } };
    const prev = await this.#db.loginFailure.findUnique({ where });
    const permanentOnly = s.permanentLockout && s.maxTemporaryLockouts === 0;
    const fresh = !prev || (!permanentOnly && now - prev.lastFailure.getTime() > s.maxDeltaTimeSeconds * 1000);
    const lastIp = ip ?? null;
    const row = fresh
      ? await this.#db.loginFailure.upsert({
          where,
          create: { realmId, key, failures: 1, lastFailure: new Date(now), lastIp },
          update: { failures: 1, lastFailure: new Date(now), lockedUntil: null, lastIp, temporaryLockouts: 0 },
        })
      : await this.#db.loginFailure.update({ where, data: { failures: { increment: 1 }, lastFailure: new Date(now), lastIp } });
    if (row.failures < threshold) return { locked: false };
    // Keycloak: the account is disabled once its temporary lockouts would exceed maxTemporaryLockouts.
    if (account && s.permanentLockout && row.temporaryLockouts >= s.maxTemporaryLockouts) return { locked: true, by: "user", permanent: true };
    const wait = Math.min(s.maxFailureWaitSeconds, s.waitIncrementSeconds * Math.floor(row.failures / threshold));
    const until = new Date(now + wait * 1000);
    await this.#db.loginFailure.update({ where, data: { lockedUntil: until, temporaryLockouts: { increment: 1 } } });
    return { locked: true, by: account ? "user" : "ip", until };
  }
}
