// `x509-idp events <realm> [--type T…] [--client c] [--user id] [--from date] [--to date] [--max n] [--json]`: the
// realm's audit log, newest first, as the admin API's events endpoint returns it.
import { NotFoundError, ValidationError } from "../admin/errors.ts";
import type { EventStore } from "../events/event-store.ts";
import type { Prisma } from "../db/database.ts";
import { RealmStore } from "../realms/realm-store.ts";

export interface EventsCliOptions {
  type?: string[];
  client?: string;
  user?: string;
  from?: string;
  to?: string;
  max?: string;
  json?: boolean;
}

function date(v: string | undefined, option: string, endOfDay = false): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T${endOfDay ? "23:59:59.999" : "00:00:00"}Z` : v);
  if (Number.isNaN(d.getTime())) throw new ValidationError([`${option}: "${v}" is not a date (yyyy-MM-dd) or an ISO timestamp`]);
  return d;
}

export async function listEvents(db: Prisma, events: EventStore, realmName: string, o: EventsCliOptions): Promise<string> {
  const realm = await new RealmStore(db).findByName(realmName);
  if (!realm) throw new NotFoundError(`realm "${realmName}" not found`);
  const max = o.max === undefined ? 100 : Number(o.max);
  if (!Number.isInteger(max) || max < 1 || max > 1000) throw new ValidationError([`--max: expected 1 to 1000, got "${o.max}"`]);
  const types = (o.type ?? []).flatMap((t) => t.split(",")).map((t) => t.trim().toUpperCase()).filter(Boolean);
  const rows = await events.query(realm.id, {
    ...(types.length && { types }),
    ...(o.client !== undefined && { clientId: o.client }),
    ...(o.user !== undefined && { userId: o.user }),
    ...(o.from !== undefined && { from: date(o.from, "--from") }),
    ...(o.to !== undefined && { to: date(o.to, "--to", true) }),
    max,
  });
  if (o.json) return rows.map((r) => JSON.stringify(r)).join("\n");
  return rows.map((r) => {
    const d = Object.entries(r.details).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`).join(" ");
    return [new Date(r.time).toISOString(), r.type, r.error ? `error=${r.error}` : "", r.clientId ? `client=${r.clientId}` : "", r.userId ? `user=${r.userId}` : "", d].filter(Boolean).join("  ");
  }).join("\n");
}
