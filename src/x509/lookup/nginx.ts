// nginx: `proxy_set_header ssl-client-cert $ssl_client_escaped_cert;` (the leaf as URL-encoded PEM; nginx cannot
// forward the chain) and, with trust-proxy-verification, `ssl-client-verify: $ssl_client_verify` (Keycloak reference
// §6: the certificate is used only when that field says SUCCESS; otherwise Keycloak logs a warning and sees no
// certificate). The chain is completed from the realm's trust anchors by validation's path builder.
import type { Certificate } from "../certificate.ts";
import { certificateIn, indexedChain, indexedNames, runLookup, single, urlDecoded, type CertificateLookup, type HeaderFields } from "./lookup.ts";
import type { LookupOptions } from "./options.ts";

export function nginxLookup(o: LookupOptions): CertificateLookup {
  const certHeader = o.headers["ssl-client-cert"] as string;
  const verifyHeader = o.headers["ssl-client-verify"];
  const prefix = o.headers["ssl-cert-chain-prefix"];
  const encoded = o.flags["cert-is-url-encoded"] === true;
  const trustVerification = o.flags["trust-proxy-verification"] === true;
  const decode = (v: string, name: string) => (encoded ? urlDecoded(v, name) : v);

  const read = (fields: HeaderFields): Certificate[] | undefined | { none: string } => {
    const value = single(fields, certHeader);
    if (value === undefined) return undefined;
    if (trustVerification && verifyHeader !== undefined) {
      const verdict = single(fields, verifyHeader);
      if (verdict !== "SUCCESS") return { none: `nginx could not verify the certificate: ${verifyHeader}: ${verdict ?? "(absent)"}` };
    }
    return [certificateIn(decode(value, certHeader), certHeader), ...indexedChain(fields, prefix, o.chainLength, decode)];
  };
  return {
    id: "nginx",
    headers: [certHeader, ...(verifyHeader ? [verifyHeader] : []), ...indexedNames(prefix, o.chainLength)],
    lookup: (fields) => runLookup(read, fields),
  };
}
