// Apache httpd (mod_ssl + mod_headers): `RequestHeader set SSL_CLIENT_CERT "%{SSL_CLIENT_CERT}s"`, and optionally
// the chain as `SSL_CLIENT_CERT_CHAIN_0 … _{n-1}` (Keycloak reference §6). Apache writes "(null)" when the client sent
// no certificate; Keycloak trims surrounding quotes; the PEM's line breaks may arrive as spaces.
import type { Certificate } from "../certificate.ts";
import { certificateIn, indexedChain, indexedNames, runLookup, single, type CertificateLookup, type HeaderFields } from "./lookup.ts";
import type { LookupOptions } from "./options.ts";

function unquoted(v: string): string | undefined {
  const s = v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).trim() : v;
  return s === "" || s === "(null)" ? undefined : s;
}

export function apacheLookup(o: LookupOptions): CertificateLookup {
  const certHeader = o.headers["ssl-client-cert"] as string;
  const prefix = o.headers["ssl-cert-chain-prefix"];
  const read = (fields: HeaderFields): Certificate[] | undefined => {
    const raw = single(fields, certHeader);
    const value = raw === undefined ? undefined : unquoted(raw);
    if (value === undefined) return undefined;
    const chain = indexedChain(fields, prefix, o.chainLength, unquoted);
    return [certificateIn(value, certHeader), ...chain];
  };
  return { id: "apache", headers: [certHeader, ...indexedNames(prefix, o.chainLength)], lookup: (fields) => runLookup(read, fields) };
}
