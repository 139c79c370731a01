// The result of validating a client certificate: a stable code for programs, Keycloak's message text for the
// direct-grant answer (keycloak-x509.md §4, §5.2), and a detail for the log that may name files, URLs and hosts and
// so never goes to the client.
import type { Certificate } from "../certificate.ts";

export type ValidationCode =
  /** No path to one of the realm's trust anchors (or the realm has none). */
  | "UNTRUSTED"
  /** The path's CA is not one of the pinned fingerprints. */
  | "CA_PIN"
  | "CERT_NOT_YET_VALID"
  | "CERT_EXPIRED"
  /** The client's certificate is a CA certificate (basicConstraints cA), not an end entity. */
  | "CA_CERTIFICATE"
  | "KEY_USAGE"
  | "EXTENDED_KEY_USAGE"
  | "CERTIFICATE_POLICY"
  | "CERT_REVOKED"
  /** A CRL could not be loaded, parsed, verified or applied. */
  | "CRL_UNAVAILABLE"
  /** A CRL is past its nextUpdate and the configuration says to abort. */
  | "CRL_STALE"
  /** No OCSP answer could be obtained or trusted. */
  | "OCSP_UNAVAILABLE"
  /** The responder does not know the certificate. */
  | "OCSP_UNKNOWN";

export interface ValidationFailure {
  ok: false;
  code: ValidationCode;
  /** Keycloak's text, safe to return to the client. */
  message: string;
  /** For the log: what exactly failed, where. */
  detail: string;
  /** A CRL location or OCSP responder was not asked: it failed moments ago (the revocation failure cache). */
  cachedFailure?: true;
  warnings: string[];
}

export interface ValidationSuccess {
  ok: true;
  /** The verified path, leaf first, trust anchor last. */
  path: Certificate[];
  /** What was let through (fail-open OCSP, stale CRL allowed, unused presented certificates…). */
  warnings: string[];
}

export type ValidationOutcome = ValidationSuccess | ValidationFailure;

/** A failed check, thrown inside validation and turned into a ValidationFailure at its edge. */
export class ValidationError extends Error {
  readonly code: ValidationCode;
  readonly detail: string;
  readonly cachedFailure: boolean;
  constructor(code: ValidationCode, message: string, detail = message, cachedFailure = false) {
    super(message);
    this.code = code;
    this.detail = detail;
    this.cachedFailure = cachedFailure;
  }
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** java.util.Date.toString() in UTC: "Sun Nov 22 12:20:18 UTC 2026". */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Keycloak's serial in messages: BigInteger.toString(16) with a space after every two characters ("10 09"). */
export function spacedSerial(decimal: string): string {
  return BigInt(decimal).toString(16).replace(/..(?!$)/g, "$& ");
}
