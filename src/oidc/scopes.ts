// Which scopes a client receives. Keycloak semantics: the client's default scopes are always granted, optional scopes
// only when requested, and any other requested scope is ignored (not an error). `openid` only when requested.
import type { Client } from "oidc-provider";

export function clientScopes(client: Client): { defaults: string[]; optional: string[] } {
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);
  return { defaults: list(client["x509idp:default_scopes"]), optional: list(client["x509idp:optional_scopes"]) };
}

export function grantedScopes(client: Client, requested: string | undefined): string[] {
  const asked = new Set((requested ?? "").split(" ").filter(Boolean));
  const { defaults, optional } = clientScopes(client);
  const out = new Set<string>();
  if (asked.has("openid")) out.add("openid");
  for (const s of defaults) out.add(s);
  for (const s of optional) if (asked.has(s)) out.add(s);
  return [...out];
}
