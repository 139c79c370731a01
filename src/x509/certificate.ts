// One X.509 certificate (RFC 5280 §4.1), parsed once from the DER it arrived in:
//   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
//   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber, signature, issuer, validity,
//                                 subject, subjectPublicKeyInfo, issuerUniqueID [1], subjectUniqueID [2],
//                                 extensions [3] EXPLICIT }
// The structure is checked up front; everything derived (renderings, hashes, decoded extensions) is computed on first
// use and kept. Facts never decide anything: validation and identity code do.
import { hash } from "node:crypto";
import { bitString, children, decodeInteger, decodeOid, decodeTime, DerError, expect, hexOf, isContext, isUniversal, readTlv, TAG, type Tlv } from "./der.ts";
import { canonicalDn, legacyDn, rfc2253Dn, type DnRenderings } from "./dn.ts";
import { CertificateParseError } from "./errors.ts";
import * as ext from "./extensions.ts";
import { attributeValues, parseName, type Name } from "./name.ts";
import { ACCESS, ATTR, CURVES, EXT, KEY_ALG, OTHER_NAME, type KeyUsageName } from "./oids.ts";
import { serialDecimal, serialHex } from "./serial.ts";
import { stringValue } from "./strings.ts";

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** extnValue contents: the DER of the extension's own structure. */
  readonly value: Uint8Array;
}

export interface PublicKeyFacts {
  algorithm: string;
  curve?: string;
  bits?: number;
}

function memo<T>(cache: Map<string, unknown>, key: string, compute: () => T): T {
  if (cache.has(key)) return cache.get(key) as T;
  const v = compute();
  cache.set(key, v);
  return v;
}

const DN_FORMS: readonly (keyof DnRenderings)[] = ["legacy", "canonical", "rfc2253"];
const DN_RENDER = [legacyDn, canonicalDn, rfc2253Dn] as const;

export class Certificate {
  /** The certificate exactly as received. */
  readonly der: Uint8Array;
  /** The signed part (for signature verification). */
  readonly tbs: Uint8Array;
  readonly version: number;
  /** The serial number INTEGER's contents. */
  readonly serialContent: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmDer: Uint8Array;
  /** The signature algorithm inside TBSCertificate (RFC 5280 §4.1.1.2: must equal signatureAlgorithm). */
  readonly tbsSignatureAlgorithmDer: Uint8Array;
  readonly signature: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  /** Milliseconds since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  readonly extensions: ReadonlyMap<string, Extension>;
  // Memoised facts: plain fields for the hot ones, maps keyed by OID for the rest (no key is built per lookup).
  readonly #extensionCache = new Map<string, unknown>();
  readonly #attributeCache = new Map<string, string[]>();
  readonly #dnCache: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];
  #sha256: string | undefined;
  #spkiSha256: string | undefined;
  #base64: string | undefined;
  #serialDecimal: string | undefined;
  #serialHex: string | undefined;
  #publicKey: PublicKeyFacts | undefined;

  constructor(der: Uint8Array) {
    try {
      const cert = readTlv(der, 0, der.length);
      if (cert.end !== der.length) throw new DerError("trailing data after the certificate", cert.end);
      const [tbs, sigAlg, sig, extra] = children(der, expect(cert, TAG.SEQUENCE, "Certificate").cs, cert.end);
      if (extra) throw new DerError("extra data in Certificate", extra.start);
      expect(tbs, TAG.SEQUENCE, "TBSCertificate", cert.start);
      expect(sigAlg, TAG.SEQUENCE, "signatureAlgorithm", cert.start);
      const sigBits = expect(sig, TAG.BIT_STRING, "signatureValue", cert.start);
      const t = tbs as Tlv;
      const fields = children(der, t.cs, t.end);
      let i = 0;
      let version = 1;
      if (fields[0] && isContext(fields[0], 0)) {
        const v = readTlv(der, fields[0].cs, fields[0].end);
        version = Number(decodeInteger(der, expect(v, TAG.INTEGER, "version", v.start))) + 1;
        i++;
      }
      const serial = expect(fields[i++], TAG.INTEGER, "serialNumber", t.start);
      const tbsSigAlg = expect(fields[i++], TAG.SEQUENCE, "signature", t.start);
      const issuer = fields[i++];
      const validity = expect(fields[i++], TAG.SEQUENCE, "validity", t.start);
      const subject = fields[i++];
      const spki = expect(fields[i++], TAG.SEQUENCE, "subjectPublicKeyInfo", t.start);
      const [nb, na] = children(der, validity.cs, validity.end);
      if (!nb || !na) throw new DerError("incomplete validity", validity.start);
      const extensions = new Map<string, Extension>();
      for (; i < fields.length; i++) {
        const f = fields[i] as Tlv;
        if (isContext(f, 1) || isContext(f, 2)) continue; // unique identifiers
        if (!isContext(f, 3)) throw new DerError("unexpected field in TBSCertificate", f.start);
        const list = readTlv(der, f.cs, f.end);
        for (const e of children(der, expect(list, TAG.SEQUENCE, "Extensions", f.start).cs, list.end)) {
          const parts = children(der, expect(e, TAG.SEQUENCE, "Extension", list.start).cs, e.end);
          const oid = decodeOid(der, expect(parts[0], TAG.OID, "extnID", e.start));
          const hasCritical = parts[1] !== undefined && isUniversal(parts[1], TAG.BOOLEAN);
          const value = expect(parts[hasCritical ? 2 : 1], TAG.OCTET_STRING, "extnValue", e.start);
          const critical = hasCritical && (parts[1] as Tlv).end > (parts[1] as Tlv).cs && der[(parts[1] as Tlv).cs] !== 0;
          // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of a particular extension.
          if (extensions.has(oid)) throw new DerError(`duplicate extension ${oid}`, e.start);
          extensions.set(oid, { oid, critical, value: der.subarray(value.cs, value.end) });
        }
      }
      this.der = der;
      this.tbs = der.subarray(t.start, t.end);
      this.version = version;
      this.serialContent = der.subarray(serial.cs, serial.end);
      this.signatureAlgorithmDer = der.subarray((sigAlg as Tlv).start, (sigAlg as Tlv).end);
      this.tbsSignatureAlgorithmDer = der.subarray(tbsSigAlg.start, tbsSigAlg.end);
      this.signatureAlgorithm = decodeOid(der, expect(readTlv(der, (sigAlg as Tlv).cs, (sigAlg as Tlv).end), TAG.OID, "algorithm"));
      this.signature = bitString(der, sigBits).bytes;
      this.issuer = parseName(der, issuer as Tlv);
      this.subject = parseName(der, subject as Tlv);
      this.notBefore = decodeTime(der, nb);
      this.notAfter = decodeTime(der, na);
      this.spki = der.subarray(spki.start, spki.end);
      this.extensions = extensions;
    } catch (e) {
      if (e instanceof DerError) throw new CertificateParseError("MALFORMED_CERTIFICATE", `not a valid X.509 certificate: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** Decodes an extension's value, turning malformed contents into a MALFORMED_EXTENSION error. */
  #extension<T>(oid: string, decode: (value: Uint8Array) => T): T | undefined {
    return memo(this.#extensionCache, oid, () => {
      const e = this.extensions.get(oid);
      if (!e) return undefined;
      try {
        return decode(e.value);
      } catch (err) {
        if (err instanceof DerError) throw new CertificateParseError("MALFORMED_EXTENSION", `malformed extension ${oid}: ${err.message}`, { cause: err });
        throw err;
      }
    });
  }

  /** Lower-case hex SHA-256 of the DER as received (Keycloak's "SHA-256 Thumbprint"). */
  get sha256(): string {
    return (this.#sha256 ??= hash("sha256", this.der, "hex"));
  }

  /** Lower-case hex SHA-256 of the SubjectPublicKeyInfo: the same for every certificate of one key pair. */
  get spkiSha256(): string {
    return (this.#spkiSha256 ??= hash("sha256", this.spki, "hex"));
  }

  /** Single-line base64 of the DER (Keycloak's "Full Certificate in PEM format"). */
  get base64(): string {
    return (this.#base64 ??= Buffer.from(this.der.buffer, this.der.byteOffset, this.der.length).toString("base64"));
  }

  get serialDecimal(): string {
    return (this.#serialDecimal ??= serialDecimal(this.serialContent));
  }

  get serialHex(): string {
    return (this.#serialHex ??= serialHex(this.serialContent));
  }

  /** One rendering of the subject or issuer DN (computed once; the canonical form is the costly one). */
  dn(which: "subject" | "issuer", form: keyof DnRenderings): string {
    const f = DN_FORMS.indexOf(form);
    const slot = (which === "subject" ? 0 : 3) + f;
    return (this.#dnCache[slot] ??= (DN_RENDER[f] as (n: Name) => string)(which === "subject" ? this.subject : this.issuer));
  }

  get subjectDn(): DnRenderings {
    return { legacy: this.dn("subject", "legacy"), canonical: this.dn("subject", "canonical"), rfc2253: this.dn("subject", "rfc2253") };
  }

  get issuerDn(): DnRenderings {
    return { legacy: this.dn("issuer", "legacy"), canonical: this.dn("issuer", "canonical"), rfc2253: this.dn("issuer", "rfc2253") };
  }

  /** Text values of a subject attribute, in encoding order (non-string values are skipped). */
  subjectAttribute(oid: string): string[] {
    return memo(this.#attributeCache, oid, () =>
      attributeValues(this.subject, oid).map((a) => (a.tag >= 0 ? stringValue(a.tag, a.content) : undefined)).filter((v): v is string => v !== undefined));
  }

  get subjectAltNames(): ext.GeneralName[] {
    return this.#extension(EXT.SUBJECT_ALT_NAME, ext.decodeAltNames) ?? [];
  }

  get sanEmails(): string[] {
    return this.subjectAltNames.flatMap((n) => (n.type === "email" ? [n.value] : []));
  }

  /** otherName values of `typeId` that are strings (UPN, xmppAddr), in order. */
  otherNames(typeId: string): string[] {
    return this.subjectAltNames.flatMap((n) => (n.type === "otherName" && n.typeId === typeId && n.text !== undefined ? [n.text] : []));
  }

  get sanUpns(): string[] {
    return this.otherNames(OTHER_NAME.UPN);
  }

  get sanXmppAddrs(): string[] {
    return this.otherNames(OTHER_NAME.XMPP_ADDR);
  }

  get subjectEmails(): string[] {
    return this.subjectAttribute(ATTR.EMAILADDRESS);
  }

  get subjectCommonNames(): string[] {
    return this.subjectAttribute(ATTR.CN);
  }

  /** Key usage bit names, or undefined when the extension is absent. */
  get keyUsage(): KeyUsageName[] | undefined {
    return this.#extension(EXT.KEY_USAGE, ext.decodeKeyUsage);
  }

  /** Extended key usage OIDs, or undefined when the extension is absent. */
  get extendedKeyUsage(): string[] | undefined {
    return this.#extension(EXT.EXT_KEY_USAGE, (v) => ext.decodeOidList(v, "ExtKeyUsageSyntax"));
  }

  /** Certificate policy OIDs, or undefined when the extension is absent. */
  get policies(): string[] | undefined {
    return this.#extension(EXT.CERTIFICATE_POLICIES, ext.decodePolicies);
  }

  get crlDistributionPoints(): ext.DistributionPoint[] {
    return this.#extension(EXT.CRL_DISTRIBUTION_POINTS, ext.decodeCrlDistributionPoints) ?? [];
  }

  /** The URIs of the CRL distribution points, in order. */
  get crlUrls(): string[] {
    return this.crlDistributionPoints.flatMap((dp) => dp.fullName.flatMap((n) => (n.type === "uri" ? [n.value] : [])));
  }

  get authorityInfoAccess(): ext.AccessDescription[] {
    return this.#extension(EXT.AUTHORITY_INFO_ACCESS, ext.decodeInfoAccess) ?? [];
  }

  #accessUrls(method: string): string[] {
    return this.authorityInfoAccess.flatMap((a) => (a.method === method && a.location.type === "uri" ? [a.location.value] : []));
  }

  get ocspUrls(): string[] {
    return this.#accessUrls(ACCESS.OCSP);
  }

  get caIssuersUrls(): string[] {
    return this.#accessUrls(ACCESS.CA_ISSUERS);
  }

  get basicConstraints(): ext.BasicConstraints | undefined {
    return this.#extension(EXT.BASIC_CONSTRAINTS, ext.decodeBasicConstraints);
  }

  /** Lower-case hex key identifier, when the extension is present. */
  get subjectKeyId(): string | undefined {
    return this.#extension(EXT.SUBJECT_KEY_ID, ext.decodeSubjectKeyId);
  }

  get authorityKeyId(): string | undefined {
    return this.#extension(EXT.AUTHORITY_KEY_ID, ext.decodeAuthorityKeyId);
  }

  /** Algorithm and size of the subject's public key (for display). */
  get publicKey(): PublicKeyFacts {
    return (this.#publicKey ??= (() => {
      try {
        const spki = readTlv(this.spki, 0, this.spki.length);
        const [alg, key] = children(this.spki, spki.cs, spki.end);
        const [oid, params] = children(this.spki, (alg as Tlv).cs, (alg as Tlv).end);
        const algOid = decodeOid(this.spki, expect(oid, TAG.OID, "algorithm"));
        const algorithm = KEY_ALG[algOid] ?? algOid;
        if (algorithm === "EC" && params && isUniversal(params, TAG.OID)) {
          const curveOid = decodeOid(this.spki, params);
          return { algorithm, curve: CURVES[curveOid] ?? curveOid };
        }
        if (algorithm === "RSA" && key) {
          const rsa = readTlv(this.spki, key.cs + 1, key.end);
          const [modulus] = children(this.spki, rsa.cs, rsa.end);
          const n = decodeInteger(this.spki, expect(modulus, TAG.INTEGER, "modulus"));
          return { algorithm, bits: n.toString(2).length };
        }
        return { algorithm };
      } catch (e) {
        if (e instanceof DerError) throw new CertificateParseError("MALFORMED_CERTIFICATE", `malformed public key: ${e.message}`, { cause: e });
        throw e;
      }
    })());
  }

  /** PEM with line breaks every 64 characters (RFC 7468). */
  toPem(): string {
    return `-----BEGIN CERTIFICATE-----\n${this.base64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
  }

  /** Lower-case hex of the serial INTEGER's contents as received. */
  get serialContentHex(): string {
    return hexOf(this.serialContent);
  }
}
