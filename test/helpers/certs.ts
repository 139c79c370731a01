// Test certificates built at test time with exact control over every field, signed for real with node:crypto.
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { Certificate } from "../../src/x509/certificate.ts";
import { EKU, EXT, KEY_USAGE_BITS, OTHER_NAME, type KeyUsageName } from "../../src/x509/oids.ts";
import { bitString, bool, concat, explicit, fromHex, implicit, integer, nul, octets, oid, seq, time, tlv, utf8, type Bytes } from "./der-build.ts";

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
  alg: "ES256" | "RS256";
}

export function newKey(alg: "ES256" | "RS256" = "ES256"): KeyPair {
  const k = alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...k, alg };
}

const SIG_ALG: Record<KeyPair["alg"], Bytes> = {
  ES256: seq(oid("1.2.840.10045.4.3.2")),
  RS256: seq(oid("1.2.840.113549.1.1.11"), nul()),
};

export type GeneralNameSpec =
  | { email: string } | { dns: string } | { uri: string } | { ip: string } | { upn: string } | { xmpp: string }
  | { otherName: { oid: string; value: Bytes } } | { dirName: Bytes } | { raw: Bytes };

export function generalName(n: GeneralNameSpec): Bytes {
  const enc = (s: string) => new TextEncoder().encode(s);
  if ("email" in n) return implicit(1, enc(n.email));
  if ("dns" in n) return implicit(2, enc(n.dns));
  if ("uri" in n) return implicit(6, enc(n.uri));
  if ("ip" in n) return implicit(7, Uint8Array.from(n.ip.split(".").map(Number)));
  if ("upn" in n) return tlv(0xa0, concat(oid(OTHER_NAME.UPN), explicit(0, utf8(n.upn))));
  if ("xmpp" in n) return tlv(0xa0, concat(oid(OTHER_NAME.XMPP_ADDR), explicit(0, utf8(n.xmpp))));
  if ("otherName" in n) return tlv(0xa0, concat(oid(n.otherName.oid), explicit(0, n.otherName.value)));
  if ("dirName" in n) return explicit(4, n.dirName);
  return n.raw;
}

export interface ExtensionSpec {
  oid: string;
  critical?: boolean;
  value: Bytes;
}

export const ext = {
  san: (names: GeneralNameSpec[], critical = false): ExtensionSpec => ({ oid: EXT.SUBJECT_ALT_NAME, critical, value: seq(...names.map(generalName)) }),
  keyUsage: (names: KeyUsageName[], critical = true): ExtensionSpec => {
    const bits = names.map((n) => KEY_USAGE_BITS.indexOf(n));
    const bytes = new Uint8Array(Math.max(1, Math.ceil((Math.max(...bits, 0) + 1) / 8)));
    for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] as number) | (0x80 >> (b & 7));
    const last = Math.max(...bits, 0);
    return { oid: EXT.KEY_USAGE, critical, value: bitString(bytes, 7 - (last & 7)) };
  },
  extKeyUsage: (oids: string[], critical = false): ExtensionSpec => ({ oid: EXT.EXT_KEY_USAGE, critical, value: seq(...oids.map((o) => oid(EKU[o] ?? o))) }),
  policies: (oids: string[], critical = false): ExtensionSpec => ({ oid: EXT.CERTIFICATE_POLICIES, critical, value: seq(...oids.map((o) => seq(oid(o)))) }),
  crlDistributionPoints: (urls: string[]): ExtensionSpec => ({
    oid: EXT.CRL_DISTRIBUTION_POINTS,
    value: seq(...urls.map((u) => seq(explicit(0, tlv(0xa0, generalName({ uri: u })))))),
  }),
  authorityInfoAccess: (a: { ocsp?: string[]; caIssuers?: string[] }): ExtensionSpec => ({
    oid: EXT.AUTHORITY_INFO_ACCESS,
    value: seq(
      ...(a.ocsp ?? []).map((u) => seq(oid("1.3.6.1.5.5.7.48.1"), generalName({ uri: u }))),
      ...(a.caIssuers ?? []).map((u) => seq(oid("1.3.6.1.5.5.7.48.2"), generalName({ uri: u }))),
    ),
  }),
  basicConstraints: (ca: boolean, pathLength?: number, critical = true): ExtensionSpec => ({
    oid: EXT.BASIC_CONSTRAINTS,
    critical,
    value: seq(...(ca ? [bool(true)] : []), ...(pathLength !== undefined ? [integer(pathLength)] : [])),
  }),
  subjectKeyId: (key: KeyObject): ExtensionSpec => ({ oid: EXT.SUBJECT_KEY_ID, value: octets(keyId(key)) }),
  authorityKeyId: (key: KeyObject): ExtensionSpec => ({ oid: EXT.AUTHORITY_KEY_ID, value: seq(implicit(0, keyId(key))) }),
};

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents (approximated over the SPKI). */
export function keyId(key: KeyObject): Bytes {
  return Uint8Array.from(createHash("sha1").update(key.export({ type: "spki", format: "der" })).digest());
}

export interface CertSpec {
  subject: Bytes;
  /** Defaults to the subject (self-issued). */
  issuer?: Bytes;
  serial?: bigint | number | { content: string };
  notBefore?: Date;
  notAfter?: Date;
  key?: KeyPair;
  /** Who signs; defaults to `key` (self-signed). */
  signer?: KeyPair;
  extensions?: ExtensionSpec[];
  version?: 1 | 3;
  /** Sign with SHA-1 (ecdsa-with-SHA1 / sha1WithRSAEncryption), which validation refuses. */
  sha1?: boolean;
}

const SHA1_SIG_ALG: Record<KeyPair["alg"], Bytes> = {
  ES256: seq(oid("1.2.840.10045.4.1")),
  RS256: seq(oid("1.2.840.113549.1.1.5"), nul()),
};

export interface BuiltCert {
  der: Bytes;
  pem: string;
  cert: Certificate;
  key: KeyPair;
}

export function buildCert(spec: CertSpec): BuiltCert {
  const key = spec.key ?? newKey();
  const signer = spec.signer ?? key;
  const now = Date.now();
  const serial = spec.serial === undefined ? integer(BigInt(now))
    : typeof spec.serial === "object" ? tlv(0x02, fromHex(spec.serial.content)) : integer(spec.serial);
  const extensions = spec.extensions ?? [];
  const tbs = seq(
    ...(spec.version === 1 ? [] : [explicit(0, integer(2))]),
    serial,
    (spec.sha1 ? SHA1_SIG_ALG : SIG_ALG)[signer.alg],
    spec.issuer ?? spec.subject,
    seq(time(spec.notBefore ?? new Date(now - 3600_000)), time(spec.notAfter ?? new Date(now + 365 * 86400_000))),
    spec.subject,
    Uint8Array.from(key.publicKey.export({ type: "spki", format: "der" })),
    ...(extensions.length ? [explicit(3, seq(...extensions.map((e) => seq(oid(e.oid), ...(e.critical ? [bool(true)] : []), octets(e.value)))))] : []),
  );
  const signature = Uint8Array.from(sign(spec.sha1 ? "sha1" : "sha256", tbs, signer.privateKey));
  const der = seq(tbs, (spec.sha1 ? SHA1_SIG_ALG : SIG_ALG)[signer.alg], bitString(signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
  return { der, pem, cert: new Certificate(der), key };
}
