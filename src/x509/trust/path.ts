// Certification path building and verification (RFC 5280 §6), against one realm's TrustStore.
//
// From the leaf, each step looks for an issuer whose subject matches the current certificate's issuer and whose key
// verifies its signature: the realm's anchors first, then the certificates the client sent, then the realm's
// intermediates; it backtracks when a candidate cannot lead to an anchor. A step is accepted only from a CA:
// basicConstraints cA (version 3), keyCertSign when key usage is present, the path-length constraints of every CA
// above, the same signature algorithm inside and outside each signed certificate, and no critical extension
// x509-idp does not process. Validity periods are checked by the next step of validation, so that an expired
// certificate is reported as expired, not as untrusted.
import type { Certificate } from "../certificate.ts";
import { CertificateParseError } from "../errors.ts";
import { EXT } from "../oids.ts";
import { SignatureError, verifySignedObject } from "../signature.ts";
import { isSelfIssued, issuerKey, sameEncoding, subjectKey } from "./names.ts";
import type { TrustStore } from "./trust-store.ts";

/** Longest path tried: leaf, up to 8 intermediates, anchor. */
export const MAX_PATH_LENGTH = 10;

/** Extensions whose meaning x509-idp applies (or that only inform), so they may be critical. */
const PROCESSED = new Set<string>([
  EXT.BASIC_CONSTRAINTS, EXT.KEY_USAGE, EXT.EXT_KEY_USAGE, EXT.SUBJECT_ALT_NAME, EXT.ISSUER_ALT_NAME,
  EXT.CERTIFICATE_POLICIES, EXT.SUBJECT_KEY_ID, EXT.AUTHORITY_KEY_ID, EXT.CRL_DISTRIBUTION_POINTS, EXT.AUTHORITY_INFO_ACCESS,
]);

export type PathResult =
  | { ok: true; path: Certificate[] }
  | { ok: false; detail: string };

const label = (c: Certificate) => `'${c.dn("subject", "legacy") || `serial ${c.serialHex}`}'`;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** What is wrong with `c` as a certificate of the path (leaf or intermediate), if anything. */
function certificateProblem(c: Certificate): string | undefined {
  for (const e of c.extensions.values()) {
    if (e.critical && !PROCESSED.has(e.oid)) return `${label(c)} has a critical extension x509-idp does not process (${e.oid})`;
  }
  if (!sameBytes(c.tbsSignatureAlgorithmDer, c.signatureAlgorithmDer)) return `${label(c)} names two different signature algorithms`;
  return undefined;
}

/** What keeps `ca` from issuing certificates, if anything (anchors too: a listed end-entity certificate issues nothing). */
function caProblem(ca: Certificate, isAnchor: boolean): string | undefined {
  try {
    const bc = ca.basicConstraints;
    if (!bc?.ca && !(isAnchor && ca.version < 3)) return `${label(ca)} is not a CA (basicConstraints cA is not set)`;
    const ku = ca.keyUsage;
    if (ku && !ku.includes("keyCertSign")) return `${label(ca)} may not sign certificates (keyCertSign is not set)`;
  } catch (e) {
    if (e instanceof CertificateParseError) return `${label(ca)}: ${e.message}`;
    throw e;
  }
  return undefined;
}

/** pathLenConstraint (§4.2.1.9): non-self-issued intermediates below each CA, leaf excluded. */
function pathLengthProblem(path: readonly Certificate[]): string | undefined {
  let below = 0;
  for (let i = 1; i < path.length; i++) {
    const ca = path[i] as Certificate;
    const limit = ca.basicConstraints?.pathLength;
    if (limit !== undefined && below > limit) return `${label(ca)} allows ${limit} intermediate CA(s) below it, the path has ${below}`;
    if (!isSelfIssued(ca)) below++;
  }
  return undefined;
}

function signedBy(c: Certificate, issuer: Certificate): string | undefined {
  try {
    return verifySignedObject(c, issuer.spki, issuer.spkiSha256) ? undefined : `the signature of ${label(c)} does not verify with the key of ${label(issuer)}`;
  } catch (e) {
    if (e instanceof SignatureError) return `${label(c)}: ${e.message}`;
    throw e;
  }
}

/**
 * A verified path from `leaf` to one of the store's anchors, leaf first and anchor last, using the certificates the
 * client presented (in any order, extra ones ignored) and the store's intermediates.
 */
export function buildPath(leaf: Certificate, presented: readonly Certificate[], store: TrustStore): PathResult {
  if (store.isEmpty) return { ok: false, detail: "the realm has no trust anchors" };
  // A listed certificate is trusted as it is (an administrator may trust one self-signed client certificate).
  if (store.certificates.some((t) => t.anchor && t.cert.sha256 === leaf.sha256)) {
    const problem = certificateProblem(leaf);
    return problem ? { ok: false, detail: problem } : { ok: true, path: [leaf] };
  }
  let detail: string | undefined;
  const note = (d: string) => {
    detail ??= d;
  };

  const extend = (path: Certificate[]): Certificate[] | undefined => {
    const current = path[path.length - 1] as Certificate;
    const problem = certificateProblem(current);
    if (problem) {
      note(problem);
      return undefined;
    }
    // Candidates whose subject is encoded exactly as the issuer name first (no rendering needed), then those that
    // only match after canonicalisation.
    const exact = store.bySubjectDer(current.issuer);
    const presentedExact = presented.filter((c) => sameEncoding(c.subject, current.issuer));
    const candidates: { cert: Certificate; anchor: boolean }[] = [
      ...exact.filter((t) => t.anchor),
      ...presentedExact.map((cert) => ({ cert, anchor: false })),
      ...exact.filter((t) => !t.anchor),
    ];
    const canonicalCandidates = (): { cert: Certificate; anchor: boolean }[] => {
      const wanted = issuerKey(current);
      const listed = store.bySubject(wanted).filter((t) => !exact.includes(t));
      return [
        ...listed.filter((t) => t.anchor),
        ...presented.filter((c) => !presentedExact.includes(c) && subjectKey(c) === wanted).map((cert) => ({ cert, anchor: false })),
        ...listed.filter((t) => !t.anchor),
      ];
    };
    const seen = new Set<string>();
    const tryCandidate = ({ cert, anchor }: { cert: Certificate; anchor: boolean }): Certificate[] | undefined => {
      if (seen.has(cert.sha256) || path.some((p) => p.sha256 === cert.sha256)) return undefined;
      seen.add(cert.sha256);
      const refused = caProblem(cert, anchor) ?? signedBy(current, cert);
      if (refused) {
        note(refused);
        return undefined;
      }
      const next = [...path, cert];
      if (anchor) {
        const tooLong = pathLengthProblem(next);
        if (!tooLong) return next;
        note(tooLong);
        return undefined;
      }
      if (next.length >= MAX_PATH_LENGTH) {
        note(`no anchor within ${MAX_PATH_LENGTH} certificates`);
        return undefined;
      }
      return extend(next);
    };
    for (const c of candidates) {
      const found = tryCandidate(c);
      if (found) return found;
    }
    // Rare: a certificate whose subject differs from the issuer name only in encoding (case, string type, spaces).
    const more = canonicalCandidates();
    if (candidates.length === 0 && more.length === 0) {
      note(`no certificate the realm trusts, or the client sent, issued ${label(current)} (issuer '${current.dn("issuer", "legacy")}')`);
    }
    for (const c of more) {
      const found = tryCandidate(c);
      if (found) return found;
    }
    return undefined;
  };

  const path = extend([leaf]);
  return path ? { ok: true, path } : { ok: false, detail: detail ?? "no path to a trust anchor" };
}
