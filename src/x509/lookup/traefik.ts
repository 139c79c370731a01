// Traefik's PassTLSClientCert middleware with `pem: true`: `X-Forwarded-Tls-Client-Cert` holds the client's
// certificates, leaf first, separated by commas, each as base64 DER without PEM delimiters (Traefik 2 URL-escaped
// them; cert-is-url-encoded, Keycloak's default false, decodes them; a value with "%" is decoded either way, since
// "%" never occurs in base64). As in Keycloak, the leaf and at most certificate-chain-length more are kept.
import type { Certificate } from "../certificate.ts";
import { certificateIn, runLookup, single, urlDecoded, type CertificateLookup, type HeaderFields } from "./lookup.ts";
import type { LookupOptions } from "./options.ts";

export function traefikLookup(o: LookupOptions): CertificateLookup {
  const certHeader = o.headers["ssl-client-cert"] as string;
  const read = (fields: HeaderFields): Certificate[] | undefined => {
    const value = single(fields, certHeader);
    if (value === undefined) return undefined;
    const parts = value.split(",").map((p) => p.trim()).filter((p) => p !== "");
    return parts.slice(0, o.chainLength + 1).map((p) => certificateIn(urlDecoded(p, certHeader), certHeader));
  };
  return { id: "traefik", headers: [certHeader], lookup: (fields) => runLookup(read, fields) };
}
