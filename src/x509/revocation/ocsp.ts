// OCSP (RFC 6960): the request x509-idp sends, the response it reads, and the rules under which it believes one,
// as Keycloak's OCSPUtils does (keycloak-x509.md §4.7) with its messages:
//   - CertID with SHA-1 (what responders expect; SHA-256 on request) and a 16-byte nonce in requestExtensions;
//   - the response must be signed by the issuer, by the configured responder certificate, or by a delegated
//     responder the issuer certified with id-kp-OCSPSigning that is valid now;
//   - a nonce in the response must be ours; thisUpdate/nextUpdate must be within 15 minutes of now.
import { hash, randomBytes } from "node:crypto";
import { Certificate } from "../certificate.ts";
import { bitString, children, decodeOid, decodeTime, DerError, expect, isContext, isUniversal, readTlv, TAG, type Tlv } from "../der.ts";
import { algorithmIdentifier, explicit, integerFromContent, octetString, oid, sequence } from "../der-write.ts";
import { CertificateParseError } from "../errors.ts";
import { parseName, type Name } from "../name.ts";
import { EKU } from "../oids.ts";
import { SignatureError, verifySignature, verifySignedObject } from "../signature.ts";
import { namesMatch } from "../trust/names.ts";

export const NONCE_OID = "1.3.6.1.5.5.7.48.1.2";
const BASIC_RESPONSE = "1.3.6.1.5.5.7.48.1.1";
const SHA1 = "1.3.14.3.2.26";
const SHA256 = "2.16.840.1.101.3.4.2.1";
/** Keycloak's TIME_SKEW: 15 minutes either way. */
export const OCSP_SKEW_MS = 15 * 60 * 1000;

/** A failure with Keycloak's message (for the client) and a detail (for the log). */
export class OcspError extends Error {
  readonly detail: string;
  constructor(message: string, detail = message) {
    super(message);
    this.detail = detail;
  }
}

export interface CertId {
  hashOid: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** The serial INTEGER's content octets. */
  serial: Uint8Array;
}

/** The subjectPublicKey BIT STRING's bytes of a SubjectPublicKeyInfo (what issuerKeyHash and byKey hash). */
export function publicKeyBits(spki: Uint8Array): Uint8Array {
  const seq = readTlv(spki, 0, spki.length);
  const [, key] = children(spki, seq.cs, seq.end);
  return bitString(spki, expect(key, TAG.BIT_STRING, "subjectPublicKey")).bytes;
}

export function certId(cert: Certificate, issuer: Certificate, sha256 = false): CertId {
  const alg = sha256 ? "sha256" : "sha1";
  return {
    hashOid: sha256 ? SHA256 : SHA1,
    issuerNameHash: hash(alg, cert.issuer.der, "buffer"),
    issuerKeyHash: hash(alg, publicKeyBits(issuer.spki), "buffer"),
    serial: cert.serialContent,
  };
}

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");

export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

/** OCSPRequest (unsigned) for one certificate, the nonce in requestExtensions (Keycloak issue #26439). */
export function ocspRequest(id: CertId, nonce: Uint8Array | undefined): Uint8Array {
  const reqCert = sequence(algorithmIdentifier(id.hashOid), octetString(id.issuerNameHash), octetString(id.issuerKeyHash), integerFromContent(id.serial));
  const parts = [sequence(sequence(reqCert))];
  if (nonce) parts.push(explicit(2, sequence(sequence(oid(NONCE_OID), octetString(octetString(nonce))))));
  return sequence(sequence(...parts));
}

export type CertStatus = "good" | "revoked" | "unknown";

export interface SingleResponse {
  hashOid: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serial: Uint8Array;
  status: CertStatus;
  revocationTime?: number;
  /** CRLReason code (RFC 5280 §5.3.1). */
  reason?: number;
  thisUpdate: number;
  nextUpdate?: number;
}

export interface BasicResponse {
  tbs: Uint8Array;
  signatureAlgorithmDer: Uint8Array;
  signature: Uint8Array;
  responderName?: Name;
  responderKeyHash?: Uint8Array;
  producedAt: number;
  responses: SingleResponse[];
  nonce?: Uint8Array;
  certs: Certificate[];
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The nonce value of an id-pkix-ocsp-nonce extension: an OCTET STRING inside extnValue (or raw, as old responders send). */
function nonceValue(der: Uint8Array, value: Tlv): Uint8Array {
  const raw = der.subarray(value.cs, value.end);
  try {
    const inner = readTlv(der, value.cs, value.end);
    if (inner.end === value.end && isUniversal(inner, TAG.OCTET_STRING)) return der.subarray(inner.cs, inner.end);
  } catch {
    // not DER inside: the raw bytes are the nonce
  }
  return raw;
}

function parseSingle(der: Uint8Array, t: Tlv): SingleResponse {
  const [id, status, thisUpdate, ...rest] = children(der, expect(t, TAG.SEQUENCE, "SingleResponse").cs, t.end);
  const [alg, nameHash, keyHash, serial] = children(der, expect(id, TAG.SEQUENCE, "CertID").cs, (id as Tlv).end);
  const [algId] = children(der, expect(alg, TAG.SEQUENCE, "hashAlgorithm").cs, (alg as Tlv).end);
  const s = status as Tlv;
  if (!s || s.cls !== 2) throw new DerError("expected a certStatus", t.start);
  const single: SingleResponse = {
    hashOid: decodeOid(der, expect(algId, TAG.OID, "hashAlgorithm")),
    issuerNameHash: der.subarray(expect(nameHash, TAG.OCTET_STRING, "issuerNameHash").cs, (nameHash as Tlv).end),
    issuerKeyHash: der.subarray(expect(keyHash, TAG.OCTET_STRING, "issuerKeyHash").cs, (keyHash as Tlv).end),
    serial: der.subarray(expect(serial, TAG.INTEGER, "serialNumber").cs, (serial as Tlv).end),
    status: s.num === 0 ? "good" : s.num === 1 ? "revoked" : "unknown",
    thisUpdate: decodeTime(der, expect(thisUpdate, TAG.GENERALIZED_TIME, "thisUpdate")),
  };
  if (s.num === 1) {
    const [time, reason] = children(der, s.cs, s.end);
    single.revocationTime = decodeTime(der, expect(time, TAG.GENERALIZED_TIME, "revocationTime"));
    if (reason && isContext(reason, 0)) {
      const r = readTlv(der, reason.cs, reason.end);
      single.reason = der[r.cs];
    }
  }
  for (const f of rest) if (isContext(f, 0)) single.nextUpdate = decodeTime(der, readTlv(der, f.cs, f.end));
  return single;
}

/** Parses an OCSPResponse; `basic` is undefined unless the status is successful. */
export function parseOcspResponse(der: Uint8Array): { status: number; basic?: BasicResponse } {
  try {
    const top = readTlv(der, 0, der.length);
    const [statusTlv, bytes] = children(der, expect(top, TAG.SEQUENCE, "OCSPResponse").cs, top.end);
    const st = expect(statusTlv, 10, "responseStatus");
    const status = st.end > st.cs ? (der[st.cs] as number) : -1;
    if (status !== 0) return { status };
    if (!bytes || !isContext(bytes, 0)) throw new OcspError("OCSP responder returned an invalid or unknown OCSP response.", "a successful response without responseBytes");
    const rb = readTlv(der, bytes.cs, bytes.end);
    const [type, response] = children(der, expect(rb, TAG.SEQUENCE, "ResponseBytes").cs, rb.end);
    if (decodeOid(der, expect(type, TAG.OID, "responseType")) !== BASIC_RESPONSE) {
      throw new OcspError("OCSP responder returned an invalid or unknown OCSP response.", "not a basic OCSP response");
    }
    const r = expect(response, TAG.OCTET_STRING, "response");
    const basicTlv = readTlv(der, r.cs, r.end);
    const [tbsTlv, sigAlg, sig, certsTlv] = children(der, expect(basicTlv, TAG.SEQUENCE, "BasicOCSPResponse").cs, basicTlv.end);
    const tbs = expect(tbsTlv, TAG.SEQUENCE, "ResponseData");
    const basic: BasicResponse = {
      tbs: der.subarray(tbs.start, tbs.end),
      signatureAlgorithmDer: der.subarray(expect(sigAlg, TAG.SEQUENCE, "signatureAlgorithm").start, (sigAlg as Tlv).end),
      signature: bitString(der, expect(sig, TAG.BIT_STRING, "signature")).bytes,
      producedAt: 0,
      responses: [],
      certs: [],
    };
    // version [0], responderID (byName [1] | byKey [2]), producedAt, responses, responseExtensions [1].
    let seenResponses = false;
    for (const f of children(der, tbs.cs, tbs.end)) {
      if (isUniversal(f, TAG.GENERALIZED_TIME)) basic.producedAt = decodeTime(der, f);
      else if (isUniversal(f, TAG.SEQUENCE)) {
        basic.responses = children(der, f.cs, f.end).map((s) => parseSingle(der, s));
        seenResponses = true;
      } else if (isContext(f, 1) && !seenResponses) basic.responderName = parseName(der, readTlv(der, f.cs, f.end));
      else if (isContext(f, 2)) {
        const k = expect(readTlv(der, f.cs, f.end), TAG.OCTET_STRING, "byKey");
        basic.responderKeyHash = der.subarray(k.cs, k.end);
      } else if (isContext(f, 1) && seenResponses) basic.nonce = extensionNonce(der, readTlv(der, f.cs, f.end));
    }
    if (certsTlv && isContext(certsTlv, 0)) {
      const list = readTlv(der, certsTlv.cs, certsTlv.end);
      basic.certs = children(der, list.cs, list.end).map((c) => new Certificate(der.slice(c.start, c.end)));
    }
    return { status, basic };
  } catch (e) {
    if (e instanceof DerError || e instanceof CertificateParseError) throw new OcspError("OCSP responder returned an invalid or unknown OCSP response.", `malformed OCSP response: ${e.message}`);
    throw e;
  }
}

/** The nonce among responseExtensions, if any. */
function extensionNonce(der: Uint8Array, exts: Tlv): Uint8Array | undefined {
  for (const ext of children(der, expect(exts, TAG.SEQUENCE, "responseExtensions").cs, exts.end)) {
    const parts = children(der, ext.cs, ext.end);
    if (decodeOid(der, expect(parts[0], TAG.OID, "extnID")) === NONCE_OID) return nonceValue(der, parts[parts.length - 1] as Tlv);
  }
  return undefined;
}

export const STATUS_MESSAGES: Record<number, string> = {
  1: "OCSP request is malformed.",
  2: "Internal error/try later.",
  3: "Internal error/try later.",
  5: "Invalid or missing signature.",
  6: "Unauthorized request.",
};

function signerMatches(c: Certificate, basic: BasicResponse): boolean {
  if (basic.responderName) return namesMatch(c.subject, basic.responderName);
  if (basic.responderKeyHash) {
    const kh = basic.responderKeyHash;
    return same(hash("sha1", publicKeyBits(c.spki), "buffer"), kh) || c.subjectKeyId === hexOf(kh);
  }
  return false;
}

export interface VerifyContext {
  issuer: Certificate;
  /** The configured responder certificate, trusted as a signer. */
  responder?: Certificate;
  nonce?: Uint8Array;
  now: number;
}

/** Checks who signed `basic` and whether to believe it; returns the SingleResponse for `id`. */
export function verifyBasicResponse(basic: BasicResponse, id: CertId, ctx: VerifyContext): SingleResponse {
  const candidates = [...basic.certs, ctx.issuer, ...(ctx.responder ? [ctx.responder] : [])];
  const signer = candidates.find((c) => signerMatches(c, basic));
  if (!signer) throw new OcspError("Unable to verify OCSP Response's signature", "no certificate matches the response's responder ID");
  const isIssuer = signer.sha256 === ctx.issuer.sha256 || same(signer.spki, ctx.issuer.spki);
  const isConfigured = ctx.responder !== undefined && signer.sha256 === ctx.responder.sha256;
  if (!isIssuer && !isConfigured) {
    let issuedByIssuer = false;
    try {
      issuedByIssuer = namesMatch(signer.issuer, ctx.issuer.subject) && verifySignedObject(signer, ctx.issuer.spki, ctx.issuer.spkiSha256);
    } catch (e) {
      if (!(e instanceof SignatureError)) throw e;
    }
    if (!issuedByIssuer) throw new OcspError("Responder's certificate is not authorized to sign OCSP responses", `the responder '${signer.dn("subject", "legacy")}' was not issued by the certificate's issuer`);
    let eku: string[] | undefined;
    try {
      eku = signer.extendedKeyUsage;
    } catch {
      eku = undefined;
    }
    if (!eku?.includes(EKU.OCSPSigning as string)) throw new OcspError("Responder's certificate not valid for signing OCSP responses", `the responder '${signer.dn("subject", "legacy")}' lacks id-kp-OCSPSigning`);
    if (signer.notBefore > ctx.now || signer.notAfter < ctx.now) throw new OcspError("Responder's certificate not valid for signing OCSP responses", `the responder '${signer.dn("subject", "legacy")}' is outside its validity period`);
  }
  let verified = false;
  try {
    verified = verifySignature(basic.tbs, basic.signatureAlgorithmDer, basic.signature, signer.spki, signer.spkiSha256);
  } catch (e) {
    if (!(e instanceof SignatureError)) throw e;
    throw new OcspError("Error verifying OCSP Response's signature", e.message);
  }
  if (!verified) throw new OcspError("Error verifying OCSP Response's signature", "the response's signature does not verify");
  if (ctx.nonce && basic.nonce && !same(ctx.nonce, basic.nonce)) throw new OcspError("Nonces do not match.");
  const single = basic.responses.find((r) => r.hashOid === id.hashOid && same(r.issuerNameHash, id.issuerNameHash) && same(r.issuerKeyHash, id.issuerKeyHash) && same(r.serial, id.serial));
  if (!single) throw new OcspError("OCSP response does not include a response for a certificate supplied in the OCSP request");
  if (single.thisUpdate > ctx.now + OCSP_SKEW_MS || (single.nextUpdate ?? single.thisUpdate) < ctx.now - OCSP_SKEW_MS) {
    throw new OcspError("Response is unreliable: its validity interval is out-of-date");
  }
  return single;
}

/** java.security.cert.CRLReason names, by code. */
export const CRL_REASONS = [
  "UNSPECIFIED", "KEY_COMPROMISE", "CA_COMPROMISE", "AFFILIATION_CHANGED", "SUPERSEDED", "CESSATION_OF_OPERATION",
  "CERTIFICATE_HOLD", "UNUSED", "REMOVE_FROM_CRL", "PRIVILEGE_WITHDRAWN", "AA_COMPROMISE",
];
