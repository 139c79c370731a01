// The composition root's product: everything a request or a CLI command needs, built once per process.
import type { Settings } from "./config/env.ts";
import { openDatabase, type Database } from "./db/database.ts";
import { EventStore } from "./events/event-store.ts";
import { createViews, type Views } from "./views.ts";
import type { Logger } from "./log.ts";
import { RealmRegistry } from "./oidc/registry.ts";

export interface Services {
  settings: Settings;
  log: Logger;
  db: Database;
  events: EventStore;
  views: Views;
  registry: RealmRegistry;
  close(): Promise<void>;
}

export async function createServices(settings: Settings, log: Logger, options: { migrate: boolean } = { migrate: true }): Promise<Services> {
  const db = await openDatabase(settings.databaseUrl, options);
  const events = new EventStore(db.prisma, log);
  const views = createViews();
  const registry = new RealmRegistry({ db: db.prisma, publicUrl: settings.publicUrl, log, events, views });
  return {
    settings,
    log,
    db,
    events,
    views,
    registry,
    async close() {
      await events.flush();
      await db.close();
    },
  };
}
