// From whatever a certificate arrives as to Certificate objects, with bounds:
//   PEM (one or several CERTIFICATE blocks, RFC 7468), DER (one, or several concatenated), base64 of DER without
//   BEGIN/END (Keycloak's "PEM" identity, one line or wrapped), and URL-encoded PEM (nginx's $ssl_client_escaped_cert).
// The first certificate is the leaf; the rest is the chain the client sent, in its order.
import { Certificate } from "./certificate.ts";
import { readTlv, DerError } from "./der.ts";
import { CertificateParseError } from "./errors.ts";

export interface ParseLimits {
  /** Largest certificate accepted (DER bytes). */
  maxCertificateBytes: number;
  /** Most certificates in one input. */
  maxCertificates: number;
  /** Largest input accepted (bytes or characters), checked before any decoding. */
  maxInputBytes: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxCertificateBytes: 64 * 1024, maxCertificates: 10, maxInputBytes: 1024 * 1024 };

const PEM_BLOCK = /-----BEGIN ((?:X509 |TRUSTED )?CERTIFICATE)-----([^-]*)-----END \1-----/g;
/** 1: base64 alphabet, 2: whitespace, 0: anything else. */
const B64_CLASS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") B64_CLASS[c.charCodeAt(0)] = 1;
for (const c of " \t\r\n\f\v") B64_CLASS[c.charCodeAt(0)] = 2;

const WHITESPACE = /[ \t\r\n\f\v]+/g;
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * The bytes of base64 text: the alphabet and whitespace, then at most two "=" (whitespace allowed between). Buffer
 * would silently skip anything else, so the text is checked first (with native regular expressions: a character loop
 * in JavaScript costs several times more on a 2 KB certificate).
 */
function base64Bytes(text: string, what: string): Uint8Array {
  const compact = text.replace(WHITESPACE, "");
  const pad = compact.indexOf("=");
  const valid =
    compact.length % 4 !== 1 &&
    !NOT_BASE64.test(compact) &&
    (pad === -1 || (pad > 0 && pad >= compact.length - 2 && (pad === compact.length - 1 || compact.charCodeAt(pad + 1) === 0x3d)));
  if (!valid) throw new CertificateParseError("BAD_BASE64", `${what} is not valid base64`);
  const b = Buffer.from(compact, "base64");
  // A plain Uint8Array view of the same memory: no copy, and no Buffer semantics leak out.
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Splits concatenated DER certificates (HAProxy forwards a chain this way). */
function splitDer(der: Uint8Array, limits: ParseLimits): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < der.length; ) {
    if (der[p] !== 0x30) throw new CertificateParseError("MALFORMED_CERTIFICATE", "not a valid X.509 certificate: it does not start with a SEQUENCE");
    if (out.length === limits.maxCertificates) throw new CertificateParseError("CHAIN_TOO_LONG", `more than ${limits.maxCertificates} certificates`);
    let end: number;
    try {
      end = readTlv(der, p, der.length).end;
    } catch (e) {
      throw new CertificateParseError("MALFORMED_CERTIFICATE", `not a valid X.509 certificate: ${(e as DerError).message}`, { cause: e });
    }
    if (end - p > limits.maxCertificateBytes) throw new CertificateParseError("CERTIFICATE_TOO_LARGE", `a certificate is larger than ${limits.maxCertificateBytes} bytes`);
    out.push(der.subarray(p, end));
    p = end;
  }
  return out;
}

function looksLikeDer(b: Uint8Array): boolean {
  return b.length > 1 && b[0] === 0x30 && ((b[1] as number) & 0x80) !== 0;
}

/** The DER of every certificate in `input`, leaf first. */
export function certificateDers(input: string | Uint8Array, limits: ParseLimits = DEFAULT_LIMITS): Uint8Array[] {
  if (input.length > limits.maxInputBytes) throw new CertificateParseError("INPUT_TOO_LARGE", `input is larger than ${limits.maxInputBytes} bytes`);
  if (typeof input !== "string") {
    if (looksLikeDer(input)) return splitDer(input, limits);
    input = Buffer.from(input).toString("latin1");
  }
  let text = input;
  if (text.trim().length === 0) throw new CertificateParseError("EMPTY", "no certificate given");
  let begin = text.indexOf("-----BEGIN");
  // URL-encoded PEM: "-----BEGIN%20CERTIFICATE-----%0AMIIB…".
  if (begin >= 0 && text.charCodeAt(begin + 10) === 0x25) {
    try {
      text = decodeURIComponent(text);
    } catch {
      throw new CertificateParseError("BAD_PEM", "malformed URL encoding");
    }
    begin = text.indexOf("-----BEGIN");
  }
  if (begin >= 0) {
    const ders: Uint8Array[] = [];
    for (const m of text.matchAll(PEM_BLOCK)) {
      if (ders.length === limits.maxCertificates) throw new CertificateParseError("CHAIN_TOO_LONG", `more than ${limits.maxCertificates} certificates`);
      const bytes = base64Bytes(m[2] as string, "a PEM block");
      if (bytes.length === 0) throw new CertificateParseError("BAD_PEM", "an empty CERTIFICATE block");
      // A TRUSTED CERTIFICATE (OpenSSL) is a certificate followed by trust settings: keep the certificate.
      ders.push(splitDer(bytes, limits)[0] as Uint8Array);
    }
    if (ders.length === 0) throw new CertificateParseError("BAD_PEM", "no complete CERTIFICATE block in the PEM text");
    return ders;
  }
  return splitDer(base64Bytes(text.trim(), "the certificate"), limits);
}

/** Every certificate in `input`, leaf first. Throws CertificateParseError with a stable code. */
export function parseCertificates(input: string | Uint8Array, limits: ParseLimits = DEFAULT_LIMITS): Certificate[] {
  return certificateDers(input, limits).map((der) => new Certificate(der));
}

/** Exactly one certificate (the first one when several are given). */
export function parseCertificate(input: string | Uint8Array, limits: ParseLimits = DEFAULT_LIMITS): Certificate {
  return parseCertificates(input, limits)[0] as Certificate;
}
