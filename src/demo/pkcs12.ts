// PKCS #12 (RFC 7292) for the demo client certificate, so a browser (or pk12util, or the OS keychain) can import it:
// the private key as a PKCS #8 EncryptedPrivateKeyInfo (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC, as node:crypto
// writes it and as OpenSSL 3 does by default), the certificates in a plain bag, both linked by localKeyId, and an
// HMAC-SHA256 integrity MAC keyed by the PKCS #12 key derivation (Appendix B). Only what x509-idp needs to write.
import { createHash, createHmac, randomBytes, type KeyObject } from "node:crypto";
import { concat, explicit, octetString, oid, sequence, tlv, type Der } from "../x509/der-write.ts";

const OID = {
  data: "1.2.840.113549.1.7.1",
  pkcs8ShroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  sha256: "2.16.840.1.101.3.4.2.1",
};

const MAC_ITERATIONS = 2048;
const integer = (n: number): Der => tlv(0x02, n < 0x80 ? Uint8Array.of(n) : Uint8Array.of(n >> 8, n & 0xff));
const set = (...items: Der[]): Der => tlv(0x31, concat(items));
const bmpString = (s: string): Der => tlv(0x1e, Buffer.from(s, "utf16le").swap16());

/** The password as PKCS #12 wants it: UTF-16BE with a two-byte terminator (nothing at all when empty). */
function bmpPassword(password: string): Buffer {
  return password === "" ? Buffer.alloc(0) : Buffer.concat([Buffer.from(password, "utf16le").swap16(), Buffer.alloc(2)]);
}

/** RFC 7292 Appendix B.2 with SHA-256 (u = 32, v = 64): `n` bytes of key material for purpose `id` (3 = MAC). */
export function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, n: number): Buffer {
  const u = 32;
  const v = 64;
  const fill = (b: Buffer) => {
    if (b.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length] as number;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(bmpPassword(password))]);
  const out: Buffer[] = [];
  for (let c = 0; c < Math.ceil(n / u); c++) {
    let A = createHash("sha256").update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash("sha256").update(A).digest();
    out.push(A);
    const B = fill(A.subarray(0, u)).subarray(0, v);
    for (let j = 0; j < I.length; j += v) {
      // I_j = (I_j + B + 1) mod 2^(8v), big-endian.
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] as number) + (B[k] as number) + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

const contentInfo = (content: Der): Der => sequence(oid(OID.data), explicit(0, octetString(content)));
const attributes = (name: string, keyId: Buffer): Der =>
  set(sequence(oid(OID.friendlyName), set(bmpString(name))), sequence(oid(OID.localKeyId), set(octetString(keyId))));

/** A .p12 holding `key` and `certificates` (DER, the key's certificate first), protected by `password`. */
export function pkcs12(key: KeyObject, certificates: Uint8Array[], password: string, name: string): Buffer {
  const leaf = certificates[0];
  if (!leaf) throw new Error("no certificate");
  const keyId = createHash("sha1").update(leaf).digest();
  const shrouded = key.export({ format: "der", type: "pkcs8", cipher: "aes-256-cbc", passphrase: password });
  const keyBag = sequence(oid(OID.pkcs8ShroudedKeyBag), explicit(0, shrouded), attributes(name, keyId));
  const certBags = certificates.map((c, i) =>
    sequence(oid(OID.certBag), explicit(0, sequence(oid(OID.x509Certificate), explicit(0, octetString(c)))), ...(i === 0 ? [attributes(name, keyId)] : [])));
  const authSafe = sequence(contentInfo(sequence(keyBag)), contentInfo(sequence(...certBags)));
  const salt = randomBytes(16);
  const macKey = pkcs12Kdf(password, salt, 3, MAC_ITERATIONS, 32);
  const mac = createHmac("sha256", macKey).update(authSafe).digest();
  const macData = sequence(sequence(sequence(oid(OID.sha256), Uint8Array.of(0x05, 0x00)), octetString(mac)), octetString(salt), integer(MAC_ITERATIONS));
  return Buffer.from(sequence(integer(3), contentInfo(authSafe), macData));
}
