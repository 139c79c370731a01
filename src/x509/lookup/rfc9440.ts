// RFC 9440 `Client-Cert` (the leaf, an RFC 8941 Byte Sequence of its DER) and `Client-Cert-Chain` (a List of Byte
// Sequences, possibly over several field lines), with the error rules of Keycloak's Rfc9440ClientCertificateLookup
// (Keycloak reference §6): a repeated Client-Cert, a value that is not a byte sequence, bad base64 or DER, and a chain
// longer than certificate-chain-length are errors; no Client-Cert is no certificate.
import type { Certificate } from "../certificate.ts";
import { certificateIn, joined, LookupError, runLookup, type CertificateLookup, type HeaderFields } from "./lookup.ts";
import type { LookupOptions } from "./options.ts";
import { byteSequenceItem, parseList, StructuredFieldError } from "./structured-fields.ts";

export function rfc9440Lookup(o: LookupOptions): CertificateLookup {
  const certHeader = o.headers["ssl-client-cert"] as string;
  const chainHeader = o.headers["ssl-cert-chain"];

  const read = (fields: HeaderFields): Certificate[] | undefined => {
    const lines = fields[certHeader];
    if (!lines || lines.length === 0) return undefined;
    if (lines.length > 1) throw new LookupError("DUPLICATE_HEADER", `header ${certHeader} appears ${lines.length} times (RFC 9440 §2.2 allows one)`);
    const value = joined(fields, certHeader);
    if (value === undefined) return undefined;
    let leafDer: Uint8Array;
    try {
      leafDer = byteSequenceItem(value);
    } catch (e) {
      if (e instanceof StructuredFieldError) throw new LookupError("BAD_HEADER", `header ${certHeader} is not an RFC 8941 byte sequence (RFC 8941 §3.3.5): ${e.message}`);
      throw e;
    }
    const chain: Certificate[] = [certificateIn(leafDer, certHeader)];
    const list = chainHeader === undefined ? undefined : joined(fields, chainHeader);
    if (list !== undefined && chainHeader !== undefined) {
      let members;
      try {
        members = parseList(list);
      } catch (e) {
        if (e instanceof StructuredFieldError) throw new LookupError("BAD_HEADER", `header ${chainHeader} is not an RFC 8941 list: ${e.message}`);
        throw e;
      }
      if (members.length > o.chainLength) {
        throw new LookupError("CHAIN_TOO_LONG", `The amount of certificates in the chain header ${members.length} is bigger than the configured limit of ${o.chainLength}.`);
      }
      for (const m of members) {
        if (m.item.type !== "binary") throw new LookupError("BAD_HEADER", `header ${chainHeader} holds a ${m.item.type} where a byte sequence is required (RFC 9440 §2.2)`);
        chain.push(certificateIn(m.item.bytes, chainHeader));
      }
    }
    return chain;
  };
  return { id: "rfc9440", headers: [certHeader, ...(chainHeader ? [chainHeader] : [])], lookup: (fields) => runLookup(read, fields) };
}
