// Client metadata is read on every token request. It is kept in memory per realm provider for a few seconds:
// changes made through this instance's admin API rebuild the provider (and this cache) at once; changes made
// elsewhere (another instance, the CLI) are seen within RECHECK_MS, the same window as realm settings.
import type { AdapterPayload } from "oidc-provider";
import type { ClientSource } from "./adapter.ts";

export function cachedClients(load: ClientSource, ttlMs: number, now: () => number = Date.now): ClientSource {
  const entries = new Map<string, { at: number; value: Promise<AdapterPayload | undefined> }>();
  return (clientId) => {
    const hit = entries.get(clientId);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    // Unknown client ids are not cached: a flood of random ids must not grow this map.
    const value = load(clientId).then((v) => {
      if (v === undefined) entries.delete(clientId);
      return v;
    }, (e: unknown) => {
      entries.delete(clientId);
      throw e;
    });
    entries.set(clientId, { at: now(), value });
    return value;
  };
}
