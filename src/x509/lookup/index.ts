// The lookup providers by name (IDP_X509_LOOKUP). To add one: a module here exporting `<name>Lookup(options)`, a row in
// options.ts (its options and defaults), a line below, a unit test in test/unit/lookup.test.ts and a README snippet.
import { X509ConfigError } from "../errors.ts";
import { apacheLookup } from "./apache.ts";
import { awsAlbLookup } from "./aws-alb.ts";
import { envoyLookup } from "./envoy.ts";
import { haproxyLookup } from "./haproxy.ts";
import type { CertificateLookup } from "./lookup.ts";
import { nginxLookup } from "./nginx.ts";
import { isLookupId, parseLookupOptions, type HeaderLookupId, type LookupOptions } from "./options.ts";
import { rfc9440Lookup } from "./rfc9440.ts";
import { traefikLookup } from "./traefik.ts";

const FACTORIES: Record<HeaderLookupId, (o: LookupOptions) => CertificateLookup> = {
  nginx: nginxLookup,
  apache: apacheLookup,
  haproxy: haproxyLookup,
  traefik: traefikLookup,
  envoy: envoyLookup,
  rfc9440: rfc9440Lookup,
  "aws-alb": awsAlbLookup,
};

/**
 * The lookup for a provider name and its options (Keycloak's option names). `tls` (the connection itself) has no
 * header lookup: undefined. Throws X509ConfigError naming the option, or `provider` for an unknown provider.
 */
export function createLookup(id: string, options: Readonly<Record<string, string>> = {}): CertificateLookup | undefined {
  if (!isLookupId(id)) throw new X509ConfigError("provider", `unknown certificate lookup "${id}"`);
  if (id === "tls") {
    const [first] = Object.keys(options);
    if (first !== undefined) throw new X509ConfigError(first, "the tls lookup has no options");
    return undefined;
  }
  return FACTORIES[id](parseLookupOptions(id, options));
}

export { LOOKUP_IDS, LOOKUP_OPTIONS, MAX_CHAIN_LENGTH, type LookupId } from "./options.ts";
export { MAX_HEADER_BYTES, type CertificateLookup, type HeaderFields, type LookupResult, type LookupErrorCode } from "./lookup.ts";
