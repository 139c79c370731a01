// Decoders for the certificate extensions x509-idp reads (RFC 5280 §4.2). Each takes the extension's extnValue
// contents and returns plain data; malformed contents throw DerError (the caller turns it into MALFORMED_EXTENSION).
import { bitString, children, decodeInteger, decodeOid, DerError, expect, hexOf, isContext, isUniversal, readTlv, TAG, type Tlv } from "./der.ts";
import { parseName, type Name } from "./name.ts";
import { KEY_USAGE_BITS, type KeyUsageName } from "./oids.ts";
import { stringValue } from "./strings.ts";

function top(der: Uint8Array, num: number, what: string): Tlv {
  const t = readTlv(der, 0, der.length);
  if (t.end !== der.length) throw new DerError(`trailing data after ${what}`, t.end);
  return expect(t, num, what, 0);
}

/**
 * GeneralName (RFC 5280 §4.2.1.6). otherName values of a string type carry their text (UPN and xmppAddr are
 * UTF8String); other otherName values only their DER.
 */
export type GeneralName =
  | { type: "email" | "dns" | "uri"; value: string }
  | { type: "ip"; value: string }
  | { type: "dirName"; name: Name }
  | { type: "otherName"; typeId: string; text: string | undefined; valueDer: Uint8Array }
  | { type: "registeredId"; oid: string }
  | { type: "x400" | "ediParty"; der: Uint8Array };

function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join(".");
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
    return groups.join(":");
  }
  return hexOf(b); // a name-constraints address/mask pair, or garbage
}

function generalName(buf: Uint8Array, t: Tlv): GeneralName {
  if (t.cls !== 2) throw new DerError("GeneralName must be context-tagged", t.start);
  const raw = buf.subarray(t.cs, t.end);
  switch (t.num) {
    case 0: {
      const [typeId, wrapped] = children(buf, t.cs, t.end);
      const id = expect(typeId, TAG.OID, "otherName type-id", t.start);
      if (!wrapped || !isContext(wrapped, 0)) throw new DerError("otherName without [0] value", t.start);
      const inner = readTlv(buf, wrapped.cs, wrapped.end);
      const text = inner.cls === 0 && !inner.constructed ? stringValue(inner.num, buf.subarray(inner.cs, inner.end)) : undefined;
      return { type: "otherName", typeId: decodeOid(buf, id), text, valueDer: buf.subarray(inner.start, inner.end) };
    }
    case 1: return { type: "email", value: latin1(raw) };
    case 2: return { type: "dns", value: latin1(raw) };
    case 6: return { type: "uri", value: latin1(raw) };
    case 7: return { type: "ip", value: ipText(raw) };
    case 4: return { type: "dirName", name: parseName(buf, readTlv(buf, t.cs, t.end)) };
    case 8: return { type: "registeredId", oid: decodeOid(buf, t) };
    case 3: return { type: "x400", der: buf.subarray(t.start, t.end) };
    case 5: return { type: "ediParty", der: buf.subarray(t.start, t.end) };
    default: throw new DerError("unknown GeneralName", t.start);
  }
}

// IA5String contents: ASCII in practice; bytes above 0x7f are kept (as Latin-1) rather than dropped, so that a
// hostile name cannot collide with a clean one.
function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

export function generalNames(buf: Uint8Array, from: number, to: number): GeneralName[] {
  return children(buf, from, to).map((t) => generalName(buf, t));
}

/** subjectAltName / issuerAltName: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName. */
export function decodeAltNames(der: Uint8Array): GeneralName[] {
  const t = top(der, TAG.SEQUENCE, "GeneralNames");
  return generalNames(der, t.cs, t.end);
}

/** keyUsage: KeyUsage ::= BIT STRING, names in bit order (RFC 5280 §4.2.1.3). */
export function decodeKeyUsage(der: Uint8Array): KeyUsageName[] {
  const t = top(der, TAG.BIT_STRING, "KeyUsage");
  const { bytes } = bitString(der, t);
  return KEY_USAGE_BITS.filter((_, i) => (((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) === 1);
}

/** extKeyUsage: SEQUENCE SIZE (1..MAX) OF KeyPurposeId (OIDs). */
export function decodeOidList(der: Uint8Array, what: string): string[] {
  const t = top(der, TAG.SEQUENCE, what);
  return children(der, t.cs, t.end).map((o) => decodeOid(der, expect(o, TAG.OID, what, t.start)));
}

/** certificatePolicies: SEQUENCE OF PolicyInformation { policyIdentifier, policyQualifiers OPTIONAL }. */
export function decodePolicies(der: Uint8Array): string[] {
  const t = top(der, TAG.SEQUENCE, "CertificatePolicies");
  return children(der, t.cs, t.end).map((pi) => {
    const [id] = children(der, expect(pi, TAG.SEQUENCE, "PolicyInformation", t.start).cs, pi.end);
    return decodeOid(der, expect(id, TAG.OID, "policyIdentifier", pi.start));
  });
}

export interface DistributionPoint {
  /** fullName entries (typically URIs), when the point names them directly. */
  fullName: GeneralName[];
  /** cRLIssuer, when the CRL is issued by someone other than the certificate's issuer. */
  crlIssuer: GeneralName[];
  /** Reason flags the point covers, undefined = all reasons. */
  reasons: Uint8Array | undefined;
}

/** cRLDistributionPoints (RFC 5280 §4.2.1.13). */
export function decodeCrlDistributionPoints(der: Uint8Array): DistributionPoint[] {
  const t = top(der, TAG.SEQUENCE, "CRLDistributionPoints");
  return children(der, t.cs, t.end).map((dp) => {
    expect(dp, TAG.SEQUENCE, "DistributionPoint", t.start);
    const out: DistributionPoint = { fullName: [], crlIssuer: [], reasons: undefined };
    for (const f of children(der, dp.cs, dp.end)) {
      if (isContext(f, 0)) {
        const name = readTlv(der, f.cs, f.end);
        if (isContext(name, 0)) out.fullName = generalNames(der, name.cs, name.end);
      } else if (isContext(f, 1)) {
        out.reasons = der.subarray(f.cs, f.end);
      } else if (isContext(f, 2)) {
        out.crlIssuer = generalNames(der, f.cs, f.end);
      }
    }
    return out;
  });
}

export interface AccessDescription {
  method: string;
  location: GeneralName;
}

/** authorityInfoAccess: SEQUENCE OF AccessDescription { accessMethod, accessLocation } (RFC 5280 §4.2.2.1). */
export function decodeInfoAccess(der: Uint8Array): AccessDescription[] {
  const t = top(der, TAG.SEQUENCE, "AuthorityInfoAccessSyntax");
  return children(der, t.cs, t.end).map((ad) => {
    const [method, location] = children(der, expect(ad, TAG.SEQUENCE, "AccessDescription", t.start).cs, ad.end);
    if (!location) throw new DerError("AccessDescription without a location", ad.start);
    return { method: decodeOid(der, expect(method, TAG.OID, "accessMethod", ad.start)), location: generalName(der, location) };
  });
}

export interface BasicConstraints {
  ca: boolean;
  pathLength: number | undefined;
}

/** basicConstraints: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }. */
export function decodeBasicConstraints(der: Uint8Array): BasicConstraints {
  const t = top(der, TAG.SEQUENCE, "BasicConstraints");
  let ca = false;
  let pathLength: number | undefined;
  for (const f of children(der, t.cs, t.end)) {
    if (isUniversal(f, TAG.BOOLEAN)) ca = f.end > f.cs && der[f.cs] !== 0;
    else if (isUniversal(f, TAG.INTEGER)) {
      const n = decodeInteger(der, f);
      if (n < 0n) throw new DerError("negative pathLenConstraint", f.start);
      pathLength = n > 0x7fffffffn ? 0x7fffffff : Number(n);
    }
  }
  return { ca, pathLength };
}

/** subjectKeyIdentifier: KeyIdentifier ::= OCTET STRING. */
export function decodeSubjectKeyId(der: Uint8Array): string {
  const t = top(der, TAG.OCTET_STRING, "SubjectKeyIdentifier");
  return hexOf(der.subarray(t.cs, t.end));
}

/** authorityKeyIdentifier: SEQUENCE { keyIdentifier [0] OPTIONAL, authorityCertIssuer [1], authorityCertSerialNumber [2] }. */
export function decodeAuthorityKeyId(der: Uint8Array): string | undefined {
  const t = top(der, TAG.SEQUENCE, "AuthorityKeyIdentifier");
  const keyId = children(der, t.cs, t.end).find((f) => isContext(f, 0));
  return keyId ? hexOf(der.subarray(keyId.cs, keyId.end)) : undefined;
}
