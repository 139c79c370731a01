// Envoy: the client certificate in `x-forwarded-client-cert` (XFCC), configured with `forward_client_cert_details:
// SANITIZE_SET` and `set_current_client_cert_details: { cert: true, chain: true }`. Each proxy hop appends one
// element describing the peer it saw; the element that counts is the one added by the proxy nearest to x509-idp (the
// last), skipping elements whose peer is itself one of the proxies (its URI SAN listed in trusted-proxy-uris, for
// meshes where proxies authenticate to each other). `Chain` (leaf first) is preferred over `Cert`; a `Hash` must be
// the leaf's SHA-256. Keycloak has this only as a community extension (Nordix), which reads the first element.
import type { Certificate } from "../certificate.ts";
import { certificateDer, certificatesIn, joined, LookupError, runLookup, urlDecoded, type CertificateLookup, type HeaderFields } from "./lookup.ts";
import type { LookupOptions } from "./options.ts";
import { parseXfcc, XfccError, type XfccElement } from "./xfcc.ts";

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) => a !== undefined && b !== undefined && Buffer.compare(a, b) === 0;

export function envoyLookup(o: LookupOptions): CertificateLookup {
  const header = o.headers["ssl-client-cert"] as string;
  const proxies = new Set(o.uris);

  const pick = (elements: XfccElement[]): XfccElement | undefined => {
    for (let i = elements.length - 1; i >= 0; i--) {
      const el = elements[i] as XfccElement;
      if (!(el.get("uri") ?? []).some((u) => proxies.has(u))) return el;
    }
    return undefined;
  };

  const read = (fields: HeaderFields): Certificate[] | undefined => {
    const value = joined(fields, header);
    if (value === undefined) return undefined;
    let elements: XfccElement[];
    try {
      elements = parseXfcc(value);
    } catch (e) {
      if (e instanceof XfccError) throw new LookupError("BAD_HEADER", `header ${header}: ${e.message}`);
      throw e;
    }
    const el = pick(elements);
    if (!el) return undefined;
    const max = o.chainLength + 1;
    const chainText = el.get("chain")?.[0];
    const certText = el.get("cert")?.[0];
    let chain: Certificate[];
    if (chainText) {
      chain = certificatesIn(urlDecoded(chainText, header), header, max);
      if (certText && !sameBytes(certificateDer(urlDecoded(certText, header), header), chain[0]?.der)) {
        throw new LookupError("BAD_HEADER", `header ${header}: Cert is not the first certificate of Chain`);
      }
    } else if (certText) {
      chain = certificatesIn(urlDecoded(certText, header), header, 1);
    } else {
      throw new LookupError("BAD_HEADER", `header ${header}: the element has neither Cert nor Chain (set Envoy's set_current_client_cert_details cert or chain)`);
    }
    const hash = el.get("hash")?.[0];
    if (hash && hash.toLowerCase() !== chain[0]?.sha256) throw new LookupError("BAD_HEADER", `header ${header}: Hash is not the SHA-256 of the certificate`);
    return chain;
  };
  return { id: "envoy", headers: [header], lookup: (fields) => runLookup(read, fields) };
}
