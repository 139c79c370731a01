// What the generated certificate authorities share: the demo PKI's client CA (demo/pki.ts) and the HTTPS server's
// local CA (http/tls.ts). P-256 keys, random positive serials, keys as PKCS#8 PEM, a 10-year CA written as ca.crt and
// ca.key (mode 0600) into a folder.
import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

export const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
export const DAY = 24 * 3600 * 1000;

/** 128 random bits, the first hex digit kept below 8 so that the serial is positive. */
export const randomSerial = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1");

export async function pkcs8Pem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

export interface LocalCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** A new self-signed CA named `name`, written to `dir`/ca.crt and `dir`/ca.key. */
export async function createLocalCa(dir: string, name: string): Promise<LocalCa> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 10 * 365 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  fs.writeFileSync(path.join(dir, "ca.crt"), `${cert.toString("pem")}\n`);
  fs.writeFileSync(path.join(dir, "ca.key"), `${await pkcs8Pem(keys.privateKey)}\n`, { mode: 0o600 });
  return { cert, key: keys.privateKey };
}
