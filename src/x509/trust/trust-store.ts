// A realm's trust anchors: the certificates its administrator trusts for client-certificate login, never the system's
// CA store. The list may hold roots and intermediates:
//   - a trust anchor is a self-signed listed certificate (a root), or one that no other listed certificate issued
//     (the top-most certificate of what was listed, so trusting a single issuing CA works);
//   - the other listed certificates are intermediates that complete a path the client sent only partly.
// Everything derived (keys, indexes, fingerprints) is computed once, when the list is loaded.
import type { Certificate } from "../certificate.ts";
import type { Name } from "../name.ts";
import { X509ConfigError } from "../errors.ts";
import { parseCertificates } from "../parse.ts";
import { SignatureError, verifySignedObject } from "../signature.ts";
import { derKey, issuerKey, subjectKey } from "./names.ts";

export interface TrustedCertificate {
  readonly cert: Certificate;
  /** A trust anchor (paths end here), or an intermediate the store offers for path building. */
  readonly anchor: boolean;
}

function issuedBy(cert: Certificate, issuer: Certificate): boolean {
  if (issuerKey(cert) !== subjectKey(issuer)) return false;
  try {
    return verifySignedObject(cert, issuer.spki, issuer.spkiSha256);
  } catch (e) {
    if (e instanceof SignatureError) return false;
    throw e;
  }
}

export class TrustStore {
  readonly certificates: readonly TrustedCertificate[];
  readonly #bySubject = new Map<string, TrustedCertificate[]>();
  readonly #bySubjectDer = new Map<string, TrustedCertificate[]>();
  readonly #fingerprints: ReadonlySet<string>;

  constructor(certs: readonly Certificate[]) {
    const unique = [...new Map(certs.map((c) => [c.sha256, c])).values()];
    this.certificates = unique.map((cert) => ({
      cert,
      anchor: issuedBy(cert, cert) || !unique.some((other) => other !== cert && issuedBy(cert, other)),
    }));
    const index = (map: Map<string, TrustedCertificate[]>, k: string, t: TrustedCertificate) => {
      const list = map.get(k);
      if (list) list.push(t);
      else map.set(k, [t]);
    };
    for (const t of this.certificates) {
      index(this.#bySubject, subjectKey(t.cert), t);
      index(this.#bySubjectDer, derKey(t.cert.subject), t);
    }
    this.#fingerprints = new Set(unique.map((c) => c.sha256));
  }

  /** Reads PEM text (any number of CERTIFICATE blocks); a bad block is a configuration error naming `key`. */
  static fromPem(pemTexts: readonly string[], key = "trustAnchors"): TrustStore {
    const certs: Certificate[] = [];
    pemTexts.forEach((text, i) => {
      try {
        certs.push(...parseCertificates(text, { maxCertificateBytes: 64 * 1024, maxCertificates: 1000, maxInputBytes: 16 * 1024 * 1024 }));
      } catch (e) {
        throw new X509ConfigError(key, `entry ${i + 1} is not a certificate: ${(e as Error).message}`);
      }
    });
    return new TrustStore(certs);
  }

  get isEmpty(): boolean {
    return this.certificates.length === 0;
  }

  get anchors(): TrustedCertificate[] {
    return this.certificates.filter((t) => t.anchor);
  }

  /** Listed certificates whose subject is `canonicalSubject`. */
  bySubject(canonicalSubject: string): readonly TrustedCertificate[] {
    return this.#bySubject.get(canonicalSubject) ?? [];
  }

  /** Listed certificates whose subject is encoded exactly as `name` (the usual case, and no rendering needed). */
  bySubjectDer(name: Name): readonly TrustedCertificate[] {
    return this.#bySubjectDer.get(derKey(name)) ?? [];
  }

  /** Whether the certificate with this SHA-256 is listed. */
  has(sha256: string): boolean {
    return this.#fingerprints.has(sha256);
  }
}
