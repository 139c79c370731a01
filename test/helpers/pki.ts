// A test PKI built at test time (keycloak-x509.md §7.3): root → intermediate → client certificates with Keycloak's
// test-user profile, CRLs signed by the CAs, and an OCSP signing certificate; keys exportable for `openssl ocsp`.
import { sign } from "node:crypto";
import { EXT } from "../../src/x509/oids.ts";
import { buildCert, ext, newKey, type BuiltCert, type ExtensionSpec, type KeyPair } from "./certs.ts";
import { bitString, bool, explicit, integer, name, nul, octets, oid, seq, time, tlv, type Bytes } from "./der-build.ts";

const DAY = 86400_000;

export const SIG_ALG: Record<KeyPair["alg"], Bytes> = {
  ES256: seq(oid("1.2.840.10045.4.3.2")),
  RS256: seq(oid("1.2.840.113549.1.1.11"), nul()),
};

export interface PkiOptions {
  crlUrls?: string[];
  ocspUrls?: string[];
  alg?: KeyPair["alg"];
}

export interface Pki {
  root: BuiltCert;
  intermediate: BuiltCert;
  /** Keycloak's test-user profile, serial 4105. */
  leaf: BuiltCert;
  /** Another client of the same intermediate. */
  issue(spec: { cn: string; serial: number | bigint; extensions?: ExtensionSpec[]; notBefore?: Date; notAfter?: Date; key?: KeyPair }): BuiltCert;
}

export const rootName = () => name([[["C", "printable", "US"]], [["O", "utf8", "Red Hat"]], [["CN", "utf8", "Keycloak Root CA"]]]);
export const intermediateName = () =>
  name([[["C", "printable", "US"]], [["ST", "utf8", "MA"]], [["O", "utf8", "Red Hat"]], [["OU", "utf8", "Keycloak"]], [["CN", "utf8", "Keycloak Intermediate CA"]], [["EMAILADDRESS", "ia5", "contact@keycloak.org"]]]);

export function clientProfile(o: PkiOptions): ExtensionSpec[] {
  return [
    ext.keyUsage(["digitalSignature", "nonRepudiation", "keyEncipherment"], true),
    ext.extKeyUsage(["clientAuth", "emailProtection"]),
    ext.san([{ email: "test-user-altmail@localhost" }, { upn: "test_upn_name@localhost" }]),
    ...(o.crlUrls?.length ? [ext.crlDistributionPoints(o.crlUrls)] : []),
    ...(o.ocspUrls?.length ? [ext.authorityInfoAccess({ ocsp: o.ocspUrls })] : []),
  ];
}

export function buildPki(o: PkiOptions = {}): Pki {
  const alg = o.alg ?? "ES256";
  const rootKey = newKey(alg);
  const root = buildCert({
    subject: rootName(), serial: 1, key: rootKey, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() + 3650 * DAY),
    extensions: [ext.basicConstraints(true, 1), ext.keyUsage(["keyCertSign", "cRLSign"]), ext.subjectKeyId(rootKey.publicKey)],
  });
  const interKey = newKey(alg);
  const intermediate = buildCert({
    subject: intermediateName(), issuer: rootName(), serial: 2, key: interKey, signer: rootKey, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() + 1825 * DAY),
    extensions: [ext.basicConstraints(true, 0), ext.keyUsage(["digitalSignature", "keyCertSign", "cRLSign"]), ext.subjectKeyId(interKey.publicKey), ext.authorityKeyId(rootKey.publicKey)],
  });
  const issue: Pki["issue"] = (spec) =>
    buildCert({
      subject: name([[["C", "printable", "US"]], [["ST", "utf8", "MA"]], [["L", "utf8", "Boston"]], [["O", "utf8", "Red Hat"]], [["OU", "utf8", "Keycloak"]], [["CN", "utf8", spec.cn]], [["EMAILADDRESS", "ia5", `${spec.cn}@localhost`]]]),
      issuer: intermediateName(),
      serial: spec.serial,
      key: spec.key ?? newKey(alg),
      signer: interKey,
      notBefore: spec.notBefore,
      notAfter: spec.notAfter,
      extensions: spec.extensions ?? clientProfile(o),
    });
  return { root, intermediate, leaf: issue({ cn: "test-user", serial: 4105 }), issue };
}

export interface CrlSpec {
  issuer: Bytes;
  signer: KeyPair;
  revoked?: { serial: number | bigint; date?: Date; extensions?: Bytes }[];
  thisUpdate?: Date;
  /** null: no nextUpdate at all. */
  nextUpdate?: Date | null;
  extensions?: ExtensionSpec[];
}

/** Concatenation of many parts (a million CRL entries do not fit in an argument list). */
function joined(parts: readonly Bytes[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A CRL signed by `signer` (DER). */
export function buildCrl(spec: CrlSpec): Bytes {
  const now = Date.now();
  const entries = (spec.revoked ?? []).map((r) => seq(integer(r.serial), time(r.date ?? new Date(now - DAY)), ...(r.extensions ? [r.extensions] : [])));
  const exts = spec.extensions ?? [];
  const tbs = seq(
    integer(1),
    SIG_ALG[spec.signer.alg],
    spec.issuer,
    time(spec.thisUpdate ?? new Date(now - 3600_000)),
    ...(spec.nextUpdate === null ? [] : [time(spec.nextUpdate ?? new Date(now + 7 * DAY))]),
    ...(entries.length ? [tlv(0x30, joined(entries))] : []),
    ...(exts.length ? [explicit(0, seq(...exts.map((e) => seq(oid(e.oid), ...(e.critical ? [bool(true)] : []), octets(e.value)))))] : []),
  );
  const signature = Uint8Array.from(sign("sha256", tbs, spec.signer.privateKey));
  return seq(tbs, SIG_ALG[spec.signer.alg], bitString(signature));
}

/** A CRL of the PKI's intermediate. */
export const intermediateCrl = (pki: Pki, spec: Omit<CrlSpec, "issuer" | "signer"> = {}) => buildCrl({ issuer: intermediateName(), signer: pki.intermediate.key, ...spec });

export const crlNumber = (n: number): ExtensionSpec => ({ oid: "2.5.29.20", value: integer(n) });
export const deltaCrlIndicator = (n: number): ExtensionSpec => ({ oid: "2.5.29.27", critical: true, value: integer(n) });
export const onlyUserCerts = (): ExtensionSpec => ({ oid: "2.5.29.28", critical: true, value: seq(tlv(0x81, Uint8Array.of(0xff))) });
export const onlyCaCerts = (): ExtensionSpec => ({ oid: "2.5.29.28", critical: true, value: seq(tlv(0x82, Uint8Array.of(0xff))) });

/** The OCSP signing certificate of a CA (EKU OCSPSigning, critical, as Keycloak's PKI has it). */
export function ocspSigner(issuer: BuiltCert, issuerName: Bytes, options: { eku?: boolean; cn?: string } = {}): BuiltCert {
  return buildCert({
    subject: name([[["O", "utf8", "Red Hat"]], [["CN", "utf8", options.cn ?? "Keycloak OCSP Signer"]]]),
    issuer: issuerName,
    serial: 99,
    signer: issuer.key,
    extensions: [ext.keyUsage(["digitalSignature"]), ...(options.eku === false ? [] : [ext.extKeyUsage(["OCSPSigning"], true)])],
  });
}

export const keyPem = (k: KeyPair) => k.privateKey.export({ type: "pkcs8", format: "pem" }) as string;

export { EXT };
