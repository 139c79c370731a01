// Certificate lookups: where the client's certificate chain comes from when a reverse proxy terminated TLS and passes
// it on in header fields (Keycloak reference §6, the X509ClientCertificateLookup SPI). Each provider is one small
// module with one job: header fields in, certificate chain (leaf first), nothing, or a clear error out. Whether the
// fields may be read at all (the peer is a trusted proxy) is decided before, outside the core.
import { Certificate } from "../certificate.ts";
import { CertificateParseError } from "../errors.ts";
import { certificateDers as parseDers, DEFAULT_LIMITS } from "../parse.ts";

/** The request's header fields: lower-case names, every field line received (Node's `headersDistinct`). */
export type HeaderFields = Readonly<Record<string, readonly string[] | undefined>>;

export type LookupErrorCode =
  /** A field that may appear once appears several times (a proxy that appends instead of replacing). */
  | "DUPLICATE_HEADER"
  | "HEADER_TOO_LARGE"
  /** The field's syntax is wrong: URL encoding, RFC 8941 structure, XFCC quoting. */
  | "BAD_HEADER"
  /** The syntax is right but what it carries is not a certificate (base64, DER). */
  | "BAD_CERTIFICATE"
  | "CHAIN_TOO_LONG";

export type LookupResult =
  /** No certificate: the proxy sent none (or, with `note`, one the configuration says not to use). */
  | { kind: "none"; note?: string }
  | { kind: "chain"; chain: Certificate[] }
  | { kind: "error"; code: LookupErrorCode; message: string };

export interface CertificateLookup {
  readonly id: string;
  /** Every header field this lookup reads, lower case: removed from the requests of peers that are not trusted. */
  readonly headers: readonly string[];
  lookup(fields: HeaderFields): LookupResult;
}

/** Most bytes x509-idp reads from one header field (all its lines together): ten URL-encoded PEM certificates fit. */
export const MAX_HEADER_BYTES = 48 * 1024;

/** Thrown by the providers' readers; `runLookup` turns it into an error result. */
export class LookupError extends Error {
  readonly code: LookupErrorCode;
  constructor(code: LookupErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A provider's reader wrapped into the lookup contract: every failure becomes a typed error, never an exception. */
export function runLookup(read: (fields: HeaderFields) => Certificate[] | undefined | { none: string }, fields: HeaderFields): LookupResult {
  try {
    const r = read(fields);
    if (r === undefined) return { kind: "none" };
    if (!Array.isArray(r)) return { kind: "none", note: r.none };
    return r.length === 0 ? { kind: "none" } : { kind: "chain", chain: r };
  } catch (e) {
    if (e instanceof LookupError) return { kind: "error", code: e.code, message: e.message };
    throw e;
  }
}

function checkSize(name: string, lines: readonly string[]): void {
  let bytes = 0;
  for (const l of lines) bytes += l.length;
  if (bytes > MAX_HEADER_BYTES) throw new LookupError("HEADER_TOO_LARGE", `header ${name} is larger than ${MAX_HEADER_BYTES} bytes`);
}

/**
 * The value of a field that may appear once, trimmed; undefined when it is absent or empty. Keycloak reads only the
 * first line of a repeated field; two lines mean someone added one the proxy did not replace, so it is an error.
 */
export function single(fields: HeaderFields, name: string): string | undefined {
  const lines = fields[name];
  if (!lines || lines.length === 0) return undefined;
  if (lines.length > 1) throw new LookupError("DUPLICATE_HEADER", `header ${name} appears ${lines.length} times`);
  checkSize(name, lines);
  const v = (lines[0] as string).trim();
  return v === "" ? undefined : v;
}

/** The lines of a list-valued field joined as one list (RFC 9110 §5.3); undefined when absent or empty. */
export function joined(fields: HeaderFields, name: string): string | undefined {
  const lines = fields[name];
  if (!lines || lines.length === 0) return undefined;
  checkSize(name, lines);
  const v = lines.map((l) => l.trim()).filter((l) => l !== "").join(", ");
  return v === "" ? undefined : v;
}

/** Percent-decoding (nginx's `$ssl_client_escaped_cert`, Envoy's `Cert=`, AWS ALB); `+` stays `+`, as base64 needs. */
export function urlDecoded(value: string, name: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new LookupError("BAD_HEADER", `header ${name} has a malformed URL encoding`);
  }
}

/** The certificates in `text` (PEM blocks, base64 DER) or `bytes` (DER, one or concatenated), at most `max`. */
export function certificatesIn(input: string | Uint8Array, name: string, max: number): Certificate[] {
  try {
    return parseDers(input, { ...DEFAULT_LIMITS, maxCertificates: max, maxInputBytes: MAX_HEADER_BYTES }).map((der) => new Certificate(der));
  } catch (e) {
    if (!(e instanceof CertificateParseError)) throw e;
    if (e.code === "CHAIN_TOO_LONG") throw new LookupError("CHAIN_TOO_LONG", `header ${name} holds more than ${max} certificate${max === 1 ? "" : "s"}`);
    throw new LookupError("BAD_CERTIFICATE", `header ${name} does not hold a certificate: ${e.message}`);
  }
}

/** The DER of exactly one certificate, not parsed further (to compare it with another). */
export function certificateDer(input: string, name: string): Uint8Array {
  try {
    const ders = parseDers(input, { ...DEFAULT_LIMITS, maxCertificates: 1, maxInputBytes: MAX_HEADER_BYTES });
    return ders[0] as Uint8Array;
  } catch (e) {
    if (!(e instanceof CertificateParseError)) throw e;
    throw new LookupError("BAD_CERTIFICATE", `header ${name} does not hold a certificate: ${e.message}`);
  }
}

/** Exactly one certificate. */
export function certificateIn(input: string | Uint8Array, name: string): Certificate {
  return certificatesIn(input, name, 1)[0] as Certificate;
}

/** Keycloak's indexed chain fields `<prefix>_0 … <prefix>_{n-1}`, in order; absent, empty or null ones are skipped. */
export function indexedChain(fields: HeaderFields, prefix: string | undefined, length: number, decode: (v: string, name: string) => string | Uint8Array | undefined): Certificate[] {
  if (prefix === undefined) return [];
  const out: Certificate[] = [];
  for (let i = 0; i < length; i++) {
    const name = `${prefix}_${i}`;
    const v = single(fields, name);
    const text = v === undefined ? undefined : decode(v, name);
    if (text !== undefined) out.push(certificateIn(text, name));
  }
  return out;
}

/** The names of the indexed chain fields, for stripping. */
export function indexedNames(prefix: string | undefined, length: number): string[] {
  return prefix === undefined ? [] : Array.from({ length }, (_, i) => `${prefix}_${i}`);
}
