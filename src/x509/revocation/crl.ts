// X.509 CRLs (RFC 5280 §5), parsed once into a set of revoked serial numbers for O(1) lookups:
//   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
//   TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer Name, thisUpdate Time,
//     nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER,
//     revocationDate Time, crlEntryExtensions OPTIONAL } OPTIONAL, crlExtensions [0] EXPLICIT OPTIONAL }
// Only complete, direct CRLs are used: a delta CRL, an indirect CRL, a partitioned-by-reason CRL or any unknown
// critical extension makes the CRL unusable (§5.2, §5.3: a CRL with a critical extension that cannot be processed
// must not be used), which the caller reports as "unable to load".
import { hash } from "node:crypto";
import { bitString, children, decodeOid, decodeTime, DerError, expect, isContext, isUniversal, readTlv, TAG, type Tlv } from "../der.ts";
import { parseName, type Name } from "../name.ts";

export class CrlError extends Error {}

const CRL_EXT = {
  CRL_NUMBER: "2.5.29.20",
  DELTA_CRL_INDICATOR: "2.5.29.27",
  ISSUING_DISTRIBUTION_POINT: "2.5.29.28",
  AUTHORITY_KEY_ID: "2.5.29.35",
  FRESHEST_CRL: "2.5.29.46",
  ISSUER_ALT_NAME: "2.5.29.18",
  AUTHORITY_INFO_ACCESS: "1.3.6.1.5.5.7.1.1",
} as const;
const ENTRY_EXT = { REASON: "2.5.29.21", INVALIDITY_DATE: "2.5.29.24", CERTIFICATE_ISSUER: "2.5.29.29", HOLD_INSTRUCTION: "2.5.29.23" } as const;
const KNOWN_CRL_EXT = new Set<string>([CRL_EXT.CRL_NUMBER, CRL_EXT.AUTHORITY_KEY_ID, CRL_EXT.FRESHEST_CRL, CRL_EXT.ISSUER_ALT_NAME, CRL_EXT.AUTHORITY_INFO_ACCESS]);
const KNOWN_ENTRY_EXT = new Set<string>([ENTRY_EXT.REASON, ENTRY_EXT.INVALIDITY_DATE, ENTRY_EXT.HOLD_INSTRUCTION]);

/**
 * A serial number's key in the revoked set: its INTEGER content octets with redundant leading 00/FF octets removed
 * (so a sloppily encoded serial still matches), as a Latin-1 string (one character per octet).
 */
export function serialKey(b: Uint8Array, from = 0, to = b.length): string {
  while (to - from > 1 && ((b[from] === 0x00 && (b[from + 1] as number) < 0x80) || (b[from] === 0xff && (b[from + 1] as number) >= 0x80))) from++;
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

const PEM_CRL = /-----BEGIN X509 CRL-----([^-]*)-----END X509 CRL-----/;

/** DER of a CRL given as DER or as PEM ("X509 CRL"). */
function crlDer(input: Uint8Array): Uint8Array {
  if (input.length > 0 && input[0] === 0x30) return input;
  const text = Buffer.from(input.buffer, input.byteOffset, input.length).toString("latin1");
  const m = PEM_CRL.exec(text);
  if (!m) throw new CrlError("neither a DER nor a PEM (X509 CRL) certificate revocation list");
  const b = Buffer.from((m[1] as string).replace(/\s+/g, ""), "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export class Crl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithmDer: Uint8Array;
  readonly signature: Uint8Array;
  readonly issuer: Name;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly revokedCount: number;
  /** issuingDistributionPoint scope (§5.2.5): the CRL covers only end-entity or only CA certificates. */
  readonly onlyUserCerts: boolean;
  readonly onlyCaCerts: boolean;
  readonly #revoked: Set<string>;
  #sha256: string | undefined;

  constructor(input: Uint8Array) {
    const der = crlDer(input);
    try {
      const top = readTlv(der, 0, der.length);
      if (top.end !== der.length) throw new DerError("trailing data after the CRL", top.end);
      const [tbs, sigAlg, sig] = children(der, expect(top, TAG.SEQUENCE, "CertificateList").cs, top.end);
      const t = expect(tbs, TAG.SEQUENCE, "TBSCertList");
      expect(sigAlg, TAG.SEQUENCE, "signatureAlgorithm");
      this.signature = bitString(der, expect(sig, TAG.BIT_STRING, "signatureValue")).bytes;
      this.der = der;
      this.tbs = der.subarray(t.start, t.end);
      this.signatureAlgorithmDer = der.subarray((sigAlg as Tlv).start, (sigAlg as Tlv).end);

      let p = t.cs;
      let f = readTlv(der, p, t.end);
      if (isUniversal(f, TAG.INTEGER)) {
        p = f.end;
        f = readTlv(der, p, t.end);
      }
      expect(f, TAG.SEQUENCE, "signature");
      p = f.end;
      const issuer = readTlv(der, p, t.end);
      this.issuer = parseName(der, issuer);
      p = issuer.end;
      const thisUpdate = readTlv(der, p, t.end);
      this.thisUpdate = decodeTime(der, thisUpdate);
      p = thisUpdate.end;
      let nextUpdate: number | undefined;
      const revoked = new Set<string>();
      let onlyUser = false;
      let onlyCa = false;
      while (p < t.end) {
        const e = readTlv(der, p, t.end);
        p = e.end;
        if (e.cls === 0 && (e.num === TAG.UTC_TIME || e.num === TAG.GENERALIZED_TIME) && nextUpdate === undefined && revoked.size === 0) {
          nextUpdate = decodeTime(der, e);
        } else if (isUniversal(e, TAG.SEQUENCE)) {
          // revokedCertificates: the hot loop of a million-entry CRL.
          for (let q = e.cs; q < e.end; ) {
            const entry = readTlv(der, q, e.end);
            if (entry.num !== TAG.SEQUENCE || entry.cls !== 0) throw new DerError("expected a revoked certificate entry", entry.start);
            const serial = readTlv(der, entry.cs, entry.end);
            if (serial.num !== TAG.INTEGER || serial.cls !== 0 || serial.end === serial.cs) throw new DerError("expected a serial number", serial.start);
            const date = readTlv(der, serial.end, entry.end);
            if (date.num !== TAG.UTC_TIME && date.num !== TAG.GENERALIZED_TIME) throw new DerError("expected a revocation date", date.start);
            if (date.end < entry.end) this.#entryExtensions(der, readTlv(der, date.end, entry.end));
            revoked.add(serialKey(der, serial.cs, serial.end));
            q = entry.end;
          }
        } else if (isContext(e, 0)) {
          const scope = this.#crlExtensions(der, readTlv(der, e.cs, e.end));
          onlyUser = scope.onlyUser;
          onlyCa = scope.onlyCa;
        } else {
          throw new DerError("unexpected field in TBSCertList", e.start);
        }
      }
      this.nextUpdate = nextUpdate;
      this.#revoked = revoked;
      this.revokedCount = revoked.size;
      this.onlyUserCerts = onlyUser;
      this.onlyCaCerts = onlyCa;
    } catch (e) {
      if (e instanceof DerError) throw new CrlError(`malformed CRL: ${e.message}`, { cause: e });
      throw e;
    }
  }

  #entryExtensions(der: Uint8Array, exts: Tlv): void {
    for (const ext of children(der, expect(exts, TAG.SEQUENCE, "crlEntryExtensions").cs, exts.end)) {
      const [id, second] = children(der, ext.cs, ext.end);
      const oid = decodeOid(der, expect(id, TAG.OID, "extnID"));
      const critical = second !== undefined && isUniversal(second, TAG.BOOLEAN) && der[second.cs] !== 0;
      if (oid === ENTRY_EXT.CERTIFICATE_ISSUER) throw new CrlError("an indirect CRL (certificateIssuer entry extension) is not supported");
      if (critical && !KNOWN_ENTRY_EXT.has(oid)) throw new CrlError(`unsupported critical CRL entry extension ${oid}`);
    }
  }

  #crlExtensions(der: Uint8Array, exts: Tlv): { onlyUser: boolean; onlyCa: boolean } {
    let onlyUser = false;
    let onlyCa = false;
    for (const ext of children(der, expect(exts, TAG.SEQUENCE, "crlExtensions").cs, exts.end)) {
      const parts = children(der, ext.cs, ext.end);
      const oid = decodeOid(der, expect(parts[0], TAG.OID, "extnID"));
      const critical = parts[1] !== undefined && isUniversal(parts[1], TAG.BOOLEAN) && der[parts[1].cs] !== 0;
      const value = parts[parts.length - 1] as Tlv;
      if (oid === CRL_EXT.DELTA_CRL_INDICATOR) throw new CrlError("a delta CRL is not supported; configure the complete CRL");
      if (oid === CRL_EXT.ISSUING_DISTRIBUTION_POINT) {
        const idp = readTlv(der, value.cs, value.end);
        for (const field of children(der, expect(idp, TAG.SEQUENCE, "IssuingDistributionPoint").cs, idp.end)) {
          const set = field.end > field.cs && der[field.cs] !== 0;
          if (isContext(field, 1)) onlyUser = set;
          else if (isContext(field, 2)) onlyCa = set;
          else if (isContext(field, 3)) throw new CrlError("a CRL partitioned by reason (onlySomeReasons) is not supported");
          else if (isContext(field, 4) && set) throw new CrlError("an indirect CRL is not supported");
          else if (isContext(field, 5) && set) throw new CrlError("an attribute-certificate CRL does not apply to client certificates");
        }
        continue;
      }
      if (critical && !KNOWN_CRL_EXT.has(oid)) throw new CrlError(`unsupported critical CRL extension ${oid}`);
    }
    return { onlyUser, onlyCa };
  }

  /** SHA-256 of the DER (identifies the CRL in the signature cache). */
  get sha256(): string {
    return (this.#sha256 ??= hash("sha256", this.der, "hex"));
  }

  /** Whether the certificate with these serial INTEGER content octets is listed. */
  isRevoked(serialContent: Uint8Array): boolean {
    return this.#revoked.has(serialKey(serialContent));
  }
}

export function parseCrl(input: Uint8Array): Crl {
  return new Crl(input);
}
