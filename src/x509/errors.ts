// The x509 core's failures: a closed set of stable codes, a message for people, no stack traces needed.

export type ParseErrorCode =
  | "EMPTY"
  | "INPUT_TOO_LARGE"
  | "CERTIFICATE_TOO_LARGE"
  | "CHAIN_TOO_LONG"
  | "BAD_PEM"
  | "BAD_BASE64"
  | "MALFORMED_CERTIFICATE"
  | "MALFORMED_EXTENSION";

/** A certificate (or the text it came in) cannot be read. */
export class CertificateParseError extends Error {
  readonly code: ParseErrorCode;
  constructor(code: ParseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A configuration value the core refuses (the message names the key). */
export class X509ConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.key = key;
  }
}
