// The composition root's product: everything a request or a CLI command needs, built once per process.
import type { Settings } from "./config/env.ts";
import { openDatabase, type Database } from "./db/database.ts";
import { EventStore } from "./events/event-store.ts";
import { createViews, type Views } from "./views.ts";
import type { Logger } from "./log.ts";
import { RealmRegistry } from "./oidc/registry.ts";
import { createRevocationChecker } from "./net/revocation.ts";
import type { RevocationChecker } from "./x509/revocation/checker.ts";

export interface Services {
  settings: Settings;
  log: Logger;
  db: Database;
  events: EventStore;
  views: Views;
  registry: RealmRegistry;
  /** CRL and OCSP caches shared by every realm of this process. */
  revocation: RevocationChecker;
  close(): Promise<void>;
}

export async function createServices(settings: Settings, log: Logger, options: { migrate: boolean } = { migrate: true }): Promise<Services> {
  const db = await openDatabase(settings.databaseUrl, options);
  const events = new EventStore(db.prisma, log);
  const views = createViews();
  const revocation = createRevocationChecker(settings.revocation);
  const registry = new RealmRegistry({ db: db.prisma, publicUrl: settings.publicUrl, log, events, views, revocation });
  return {
    settings,
    log,
    db,
    events,
    views,
    registry,
    revocation,
    async close() {
      await events.flush();
      await db.close();
    },
  };
}
