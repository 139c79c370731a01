// One oidc-provider per realm, built on first use and cached. A change made on any node drops the cached realm on every
// node at once (changed(), db/change-feed.ts: PostgreSQL LISTEN/NOTIFY); as a fallback a realm's row is re-read at
// most every few seconds and the provider rebuilt when the realm changed.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Provider } from "oidc-provider";
import type { ChangeFeed } from "../db/change-feed.ts";
import { RealmStore, type Realm } from "../realms/realm-store.ts";
import { loadX509Settings, type X509Settings } from "../realms/x509-settings.ts";
import { RealmUsers } from "../users/federation.ts";
import { ensureCookieKeys, ensureSigningKeys } from "./keys.ts";
import { createRealmProvider, type RealmProviderDeps } from "./provider.ts";

export interface RealmRuntime {
  realm: Realm;
  provider: Provider;
  /** The provider's request handler (composed once). */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The realm's X.509 flows and trust anchors, parsed once per realm version. */
  x509: X509Settings;
  /** The realm's users: local, and LDAP when federated. */
  users: RealmUsers;
  /** Secrets that sign the realm's cookies and CSRF tokens (newest first). */
  cookieKeys: string[];
}

interface Entry {
  runtime: Promise<RealmRuntime | undefined>;
  checkedAt: number;
}

export const RECHECK_MS = 5_000;

export class RealmRegistry {
  readonly #deps: RealmProviderDeps;
  readonly #realms: RealmStore;
  readonly #entries = new Map<string, Entry>();

  readonly #changes: ChangeFeed | undefined;

  /** `changes`: other nodes' realm changes drop this node's cached realm at once (db/change-feed.ts). */
  constructor(deps: RealmProviderDeps, changes?: ChangeFeed) {
    this.#deps = deps;
    this.#realms = new RealmStore(deps.db);
    this.#changes = changes;
    changes?.subscribe((realm) => this.invalidate(realm));
  }

  /** A realm (or its clients, users' settings…) changed here: forget it, and tell the other nodes. */
  changed(name: string): void {
    this.invalidate(name);
    void this.#changes?.publish(name);
  }

  /** The realm's runtime, or undefined when no such realm exists. */
  async get(name: string): Promise<RealmRuntime | undefined> {
    const now = Date.now();
    const entry = this.#entries.get(name);
    if (entry && now - entry.checkedAt < RECHECK_MS) return entry.runtime;
    if (entry) {
      entry.checkedAt = now;
      const current = await entry.runtime;
      const fresh = await this.#realms.findByName(name);
      if (fresh && current && fresh.updatedAt.getTime() === current.realm.updatedAt.getTime() && fresh.id === current.realm.id) return current;
    }
    const runtime = this.#build(name);
    this.#entries.set(name, { runtime, checkedAt: now });
    // Only existing realms are remembered: requests for random realm names must not grow this map.
    runtime.then((r) => r ?? this.#entries.delete(name), () => this.#entries.delete(name));
    return runtime;
  }

  /** How many realms have a cached provider. */
  get size(): number {
    return this.#entries.size;
  }

  /** Forget one realm (or all): the next request rebuilds from the database. */
  invalidate(name?: string): void {
    if (name === undefined) this.#entries.clear();
    else this.#entries.delete(name);
  }

  async #build(name: string): Promise<RealmRuntime | undefined> {
    const realm = await this.#realms.findByName(name);
    if (!realm) return undefined;
    this.#deps.metrics?.realm(realm.id, realm.name);
    const keys = await ensureSigningKeys(this.#deps.db, this.#deps.secrets, realm.id);
    const cookieKeys = await ensureCookieKeys(this.#deps.db, this.#deps.secrets, realm.id);
    const x509 = loadX509Settings(realm.x509);
    const ldap = this.#deps.ldap.forRealm(realm);
    const users = new RealmUsers(this.#deps.db, realm, ldap && { directory: ldap, providers: this.#deps.ldap });
    const provider = await createRealmProvider(this.#deps, realm, { signing: keys, cookies: cookieKeys }, x509, users);
    const handle = provider.callback();
    return { realm, provider, x509, users, cookieKeys, handle: (req, res) => handle(req, res) as Promise<void> };
  }
}
