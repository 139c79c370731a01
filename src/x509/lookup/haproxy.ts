// HAProxy: `http-request set-header Client-Cert :%[ssl_c_der,base64]:` (an RFC 8941 byte sequence; plain base64 DER
// and PEM are read too) and the intermediates as one field of concatenated DER, `Client-Cert-Chain
// :%[ssl_c_chain_der,base64]:`, because HAProxy cannot write one field per certificate (Keycloak 26.7, issue #49180;
// the older indexed fields `<prefix>_i` still work). As in Keycloak, the first certificate-chain-length certificates
// of the chain are used.
import type { Certificate } from "../certificate.ts";
import { certificateIn, certificatesIn, indexedChain, indexedNames, LookupError, runLookup, single, type CertificateLookup, type HeaderFields } from "./lookup.ts";
import { MAX_CHAIN_LENGTH, type LookupOptions } from "./options.ts";
import { parseList, StructuredFieldError } from "./structured-fields.ts";

/** The bytes or text a HAProxy field carries: `:b64:` (one or a list), or the value itself (base64 DER, PEM). */
function payloads(value: string, name: string): (string | Uint8Array)[] {
  if (!value.startsWith(":")) return [value];
  try {
    return parseList(value).map((m) => {
      if (m.item.type !== "binary") throw new StructuredFieldError(`a ${m.item.type} where a byte sequence is required`);
      return m.item.bytes;
    });
  } catch (e) {
    if (e instanceof StructuredFieldError) throw new LookupError("BAD_HEADER", `header ${name} is not an RFC 8941 byte sequence: ${e.message}`);
    throw e;
  }
}

export function haproxyLookup(o: LookupOptions): CertificateLookup {
  const certHeader = o.headers["ssl-client-cert"] as string;
  const chainHeader = o.headers["ssl-cert-chain"];
  const prefix = o.headers["ssl-cert-chain-prefix"];

  const read = (fields: HeaderFields): Certificate[] | undefined => {
    const value = single(fields, certHeader);
    if (value === undefined || value === "::") return undefined;
    const leafParts = payloads(value, certHeader);
    if (leafParts.length !== 1) throw new LookupError("BAD_HEADER", `header ${certHeader} must hold one certificate`);
    const chain: Certificate[] = [certificateIn(leafParts[0] as string | Uint8Array, certHeader)];
    const chainValue = chainHeader === undefined ? undefined : single(fields, chainHeader);
    if (chainValue !== undefined && chainValue !== "::" && chainHeader !== undefined) {
      const intermediates = payloads(chainValue, chainHeader).flatMap((p) => certificatesIn(p, chainHeader, MAX_CHAIN_LENGTH));
      chain.push(...intermediates.slice(0, o.chainLength));
    }
    chain.push(...indexedChain(fields, prefix, o.chainLength, (v, name) => payloads(v, name)[0]));
    return chain;
  };
  return {
    id: "haproxy",
    headers: [certHeader, ...(chainHeader ? [chainHeader] : []), ...indexedNames(prefix, o.chainLength)],
    lookup: (fields) => runLookup(read, fields),
  };
}
