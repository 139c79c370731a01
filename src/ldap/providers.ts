// The process's LDAP connections, one per realm with federation, reused across requests and replaced when the
// realm's settings change. Also the LDAP part of health: each realm's last outcome, a warning while a directory is
// unreachable, and one LDAP_UNAVAILABLE event (plus a log line) when a realm's directory goes from working to failing.
import { SEALED, SecretBoxError, type SecretBox } from "../config/secret-box.ts";
import type { EventRecorder } from "../events/event-store.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { Realm } from "../realms/realm-store.ts";
import { LdapConnection } from "./connection.ts";
import { LdapDirectory } from "./directory.ts";

export interface LdapStatus {
  realm: string;
  status: "UP" | "DOWN";
  /** ISO time of the last change of status. */
  since: string;
  server?: string;
  error?: string;
}

interface Entry {
  version: number;
  directory: LdapDirectory;
}

export class LdapProviders {
  readonly #box: SecretBox;
  readonly #log: Logger;
  readonly #events: EventRecorder;
  readonly #entries = new Map<string, Entry>();
  readonly #status = new Map<string, LdapStatus>();
  readonly #metrics: Metrics | undefined;

  constructor(box: SecretBox, log: Logger, events: EventRecorder, metrics?: Metrics) {
    this.#box = box;
    this.#log = log;
    this.#events = events;
    this.#metrics = metrics;
  }

  /** Seals bind credentials for storage (admin API, import). */
  get secrets(): SecretBox {
    return this.#box;
  }

  /** The bind credential in clear, for a connection (never logged, never returned by the API). */
  credential(realm: Pick<Realm, "id" | "ldapBindCredential">): string | undefined {
    if (realm.ldapBindCredential === null) return undefined;
    return this.#box.open(realm.ldapBindCredential, SEALED.ldapBindCredential(realm.id));
  }

  /** A new connection for these settings (the caller closes it): what `ldap test` and the registry use. */
  directoryFor(realm: Realm): LdapDirectory {
    const ldap = realm.ldap;
    if (!ldap) throw new Error(`realm "${realm.name}" has no LDAP federation`);
    let bindCredential: string | undefined;
    try {
      bindCredential = this.credential(realm);
    } catch (e) {
      if (!(e instanceof SecretBoxError)) throw e;
      bindCredential = undefined;
      this.#log.error({ realm: realm.name }, e.message);
    }
    const connection = new LdapConnection({
      urls: ldap.connectionUrls,
      startTls: ldap.startTls,
      ca: ldap.caCertificates,
      bindDn: ldap.bindDn,
      bindCredential,
      connectTimeoutMs: ldap.connectTimeoutMs,
      timeoutMs: ldap.timeoutMs,
    });
    return new LdapDirectory(ldap, connection);
  }

  /** The realm's directory, or undefined without (enabled) federation; the connection is kept for the next call. */
  forRealm(realm: Realm): LdapDirectory | undefined {
    const entry = this.#entries.get(realm.id);
    if (!realm.ldap?.enabled) {
      if (entry) this.#forget(realm.id);
      return undefined;
    }
    const version = realm.updatedAt.getTime();
    if (entry && entry.version === version) return entry.directory;
    if (entry) void entry.directory.connection.close();
    const directory = this.directoryFor(realm);
    this.#entries.set(realm.id, { version, directory });
    return directory;
  }

  #forget(realmId: string): void {
    const entry = this.#entries.get(realmId);
    this.#entries.delete(realmId);
    this.#status.delete(realmId);
    void entry?.directory.connection.close();
  }

  /** Records that the realm's directory answered (in `seconds`). */
  succeeded(realm: Pick<Realm, "id" | "name">, seconds?: number): void {
    if (seconds !== undefined) this.#metrics?.ldapRequest(realm.name, true, seconds);
    const s = this.#status.get(realm.id);
    if (s?.status === "UP") return;
    if (s) this.#log.info({ realm: realm.name }, "LDAP reachable again");
    this.#status.set(realm.id, { realm: realm.name, status: "UP", since: new Date().toISOString() });
  }

  /** Records that the realm's directory failed: a warning for health, and an event when it was working before. */
  failed(realm: Pick<Realm, "id" | "name">, server: string, error: string, seconds?: number): void {
    if (seconds !== undefined) this.#metrics?.ldapRequest(realm.name, false, seconds);
    const s = this.#status.get(realm.id);
    if (s?.status === "DOWN") {
      s.error = error;
      s.server = server;
      return;
    }
    this.#status.set(realm.id, { realm: realm.name, status: "DOWN", since: new Date().toISOString(), server, error });
    this.#log.warn({ realm: realm.name, server, error }, "LDAP unavailable");
    this.#events.record({ realmId: realm.id, type: "LDAP_UNAVAILABLE", error: "ldap_unavailable", details: { server, detail: error } });
  }

  /** Every realm's LDAP status seen since start (for /health/ready). */
  status(): LdapStatus[] {
    return [...this.#status.values()].sort((a, b) => a.realm.localeCompare(b.realm));
  }

  async close(): Promise<void> {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(all.map((e) => e.directory.connection.close()));
  }
}
