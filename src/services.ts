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
import { LdapProviders } from "./ldap/providers.ts";

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
  close(): Promise<void>;
}

export async function createServices(settings: Settings, log: Logger, options: { migrate: boolean } = { migrate: true }): Promise<Services> {
  const db = await openDatabase(settings.databaseUrl, options);
  const events = new EventStore(db.prisma, log);
  const views = createViews();
  const revocation = createRevocationChecker(settings.revocation);
  const certificates = new ClientCertificates(createLookup(settings.x509Lookup.id, settings.x509Lookup.options));
  const ldap = new LdapProviders(openSecretBox(settings.secretKey, settings.dataDir), log, events);
  const registry = new RealmRegistry({ db: db.prisma, publicUrl: settings.publicUrl, log, events, views, revocation, certificates, ldap });
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
    async close() {
      await ldap.close();
      await events.flush();
      await db.close();
    },
  };
}
