// Password brute-force protection: failures counted per user and per client IP address, temporary lockout with a
// growing wait. The wait follows Keycloak's BruteForceProtector: waitIncrement × ⌊failures / failureFactor⌋, capped at
// maxFailureWait; counters restart after maxDeltaTime without failures. An IP address is locked after three times
// the user threshold, so one address cannot spray passwords across many accounts.
// While locked, even the right password fails, with the same message as a wrong one (no account-state oracle).
import type { Tx } from "../db/database.ts";
import { hotSqlOf, readTimestamp, type HotSql } from "../db/hot-sql.ts";
import type { BruteForceSettings } from "../realms/realm-store.ts";

export const IP_FACTOR_MULTIPLIER = 3;

export interface Lockout {
  locked: boolean;
  /** Which counter locked: the account or the client address. */
  by?: "user" | "ip";
  until?: Date;
}

/** The lock check runs on every login: a prepared statement (db/hot-sql.ts). */
const LOCKED = `SELECT "key", "lockedUntil" FROM "LoginFailure" WHERE "realmId" = $1 AND ("key" = $2 OR "key" = $3) AND "lockedUntil" > $4`;

export class BruteForceGuard {
  readonly #db: Tx;
  readonly #now: () => number;
  readonly #hot: HotSql | undefined;

  constructor(db: Tx, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    this.#hot = hotSqlOf(db);
  }

  static keys(userId: string | undefined, ip: string | undefined): { user?: string; ip?: string } {
    return { ...(userId && { user: `user:${userId}` }), ...(ip && { ip: `ip:${ip}` }) };
  }

  async check(realmId: string, settings: BruteForceSettings, userId?: string, ip?: string): Promise<Lockout> {
    if (!settings.enabled) return { locked: false };
    const { user, ip: ipKey } = BruteForceGuard.keys(userId, ip);
    const now = this.#now();
    if (this.#hot) {
      const keys = [user, ipKey].filter((k): k is string => !!k);
      if (keys.length === 0) return { locked: false };
      const locked = await this.#hot.all<{ key: string; lockedUntil: unknown }>(LOCKED, [realmId, keys[0], keys[1] ?? keys[0], this.#hot.timestamp(new Date(now))]);
      const hit = locked.find((r) => r.key === user) ?? locked[0];
      return hit ? { locked: true, by: hit.key === user ? "user" : "ip", until: readTimestamp(hit.lockedUntil) as Date } : { locked: false };
    }
    const rows = await this.#db.loginFailure.findMany({
      where: { realmId, key: { in: [user, ipKey].filter((k): k is string => !!k) } },
    });
    for (const r of rows) {
      if (r.lockedUntil && r.lockedUntil.getTime() > now) {
        return { locked: true, by: r.key === user ? "user" : "ip", until: r.lockedUntil };
      }
    }
    return { locked: false };
  }

  /** Counts a failed password; returns the lockout it caused, if any. */
  async recordFailure(realmId: string, settings: BruteForceSettings, userId?: string, ip?: string): Promise<Lockout> {
    if (!settings.enabled) return { locked: false };
    const { user, ip: ipKey } = BruteForceGuard.keys(userId, ip);
    let result: Lockout = { locked: false };
    if (user) {
      const until = await this.#count(realmId, user, settings, settings.failureFactor);
      if (until) result = { locked: true, by: "user", until };
    }
    if (ipKey) {
      const until = await this.#count(realmId, ipKey, settings, settings.failureFactor * IP_FACTOR_MULTIPLIER);
      if (until && !result.locked) result = { locked: true, by: "ip", until };
    }
    return result;
  }

  /** A successful password login clears the account's counter (the address counter only decays). */
  async recordSuccess(realmId: string, userId: string): Promise<void> {
    await this.#db.loginFailure.deleteMany({ where: { realmId, key: `user:${userId}` } });
  }

  /** Deletes counters that no longer count (no failure within the realm's maxDeltaTime, not locked); returns how many. */
  async sweep(): Promise<number> {
    const now = this.#now();
    let deleted = 0;
    for (const r of await this.#db.realm.findMany({ select: { id: true, maxDeltaTimeSeconds: true } })) {
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

  async #count(realmId: string, key: string, s: BruteForceSettings, threshold: number): Promise<Date | undefined> {
    const now = this.#now();
    const where = { realmId_key: { realmId, key } };
    const prev = await this.#db.loginFailure.findUnique({ where });
    const fresh = !prev || now - prev.lastFailure.getTime() > s.maxDeltaTimeSeconds * 1000;
    const row = fresh
      ? await this.#db.loginFailure.upsert({
          where,
          create: { realmId, key, failures: 1, lastFailure: new Date(now) },
          update: { failures: 1, lastFailure: new Date(now), lockedUntil: null },
        })
      : await this.#db.loginFailure.update({ where, data: { failures: { increment: 1 }, lastFailure: new Date(now) } });
    if (row.failures < threshold) return undefined;
    const wait = Math.min(s.maxFailureWaitSeconds, s.waitIncrementSeconds * Math.floor(row.failures / threshold));
    const until = new Date(now + wait * 1000);
    await this.#db.loginFailure.update({ where, data: { lockedUntil: until } });
    return until;
  }
}
