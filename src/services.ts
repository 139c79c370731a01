// The composition root's product: everything a request or a CLI command needs, built once per process.
import type { Settings } from "./config/env.ts";
import { openDatabase, type Database } from "./db/database.ts";
import { EventStore } from "./events/event-store.ts";
import { createViews, type Views } from "./views.ts";
import type { Logger } from "./log.ts";
import { RealmRegistry } from "./oidc/registry.ts";
import { createRevocationChecker } from "./net/revocation.ts";
import type { RevocationChecker } from "./x509/revocation/checker.ts";
import { createLookup } from "./x509/lookup/index.ts";
import { ClientCertificates } from "./http/client-certificate.ts";
import { openSecretBox } from "./config/secret-box.ts";
import { secureDataDir } from "./config/data-dir.ts";
import { sealAtRest } from "./oidc/seal-at-rest.ts";
import { LdapProviders } from "./ldap/providers.ts";
import { Lifecycle } from "./http/lifecycle.ts";
import { Metrics } from "./metrics.ts";

export interface Services {
  settings: Settings;
  log: Logger;
  db: Database;
  events: EventStore;
  views: Views;
  registry: RealmRegistry;
  /** CRL and OCSP caches shared by every realm of this process. */
  revocation: RevocationChecker;
  /** Where each request's client certificate comes from (TLS, or a trusted proxy's header). */
  certificates: ClientCertificates;
  /** Each federated realm's LDAP connection, and LDAP health. */
  ldap: LdapProviders;
  /** Serving or draining (graceful shutdown), and the requests in flight. */
  lifecycle: Lifecycle;
  /** What GET /metrics reports. */
  metrics: Metrics;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Apply migrations and the start-up sealing pass (a pool's first worker, a single server, the CLI). */
  migrate: boolean;
  /** A worker of a pool (cli/workers.ts): no checkpoints of its own, realm changes and metrics through the primary. */
  pooled?: boolean;
}

export async function createServices(settings: Settings, log: Logger, options: ServiceOptions = { migrate: true }): Promise<Services> {
  const loose = secureDataDir(settings.dataDir);
  if (loose.length) log.warn({ paths: loose.slice(0, 10) }, "could not make these paths in the data folder private to this account (mode 0700/0600)");
  const pool = options.pooled ? await import("./cli/workers.ts") : undefined;
  const db = await openDatabase(settings.databaseUrl, { migrate: options.migrate, log, ...(pool && { checkpoint: false, feed: pool.clusterChangeFeed }) });
  // The sources are read when scraped, once everything below exists.
  const metrics: Metrics = new Metrics({ events: () => events, database: () => db.stats(), ldap: () => ldap.status() });
  if (pool) metrics.pooled(pool.clusterMetrics(metrics.registry));
  const events = new EventStore(db.prisma, log, (e) => metrics.event(e));
  const views = createViews();
  const revocation = createRevocationChecker(settings.revocation, Date.now, metrics);
  const certificates = new ClientCertificates(createLookup(settings.x509Lookup.id, settings.x509Lookup.options));
  const secrets = openSecretBox(settings.secretKey, settings.dataDir, settings.previousSecretKey ? [settings.previousSecretKey] : []);
  if (options.migrate) {
    try {
      const sealed = await sealAtRest(db.prisma, secrets);
      if (Object.values(sealed).some((n) => n > 0)) log.info(sealed, "secrets at rest sealed and tokens re-keyed");
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  const ldap = new LdapProviders(secrets, log, events, metrics);
  const registry = new RealmRegistry({ db: db.prisma, publicUrl: settings.publicUrl, ...(settings.mtlsPublicUrl !== undefined && { mtlsPublicUrl: settings.mtlsPublicUrl }), log, events, views, revocation, certificates, ldap, secrets, metrics }, db.changes);
  return {
    settings,
    log,
    db,
    events,
    views,
    registry,
    revocation,
    certificates,
    ldap,
    lifecycle: new Lifecycle(),
    metrics,
    async close() {
      await ldap.close();
      await events.flush();
      await db.close();
    },
  };
}
