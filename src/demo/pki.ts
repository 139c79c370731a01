// The demo PKI for newcomers, in <data>/demo-pki: a demo CA and a client certificate for the demo user (PEM and
// key for curl, a .p12 for browsers). Created once; an existing PKI is reused (and its client certificate renewed
// when it expires within 30 days).
import "reflect-metadata";
import { createPrivateKey, X509Certificate as NodeX509 } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as x509 from "@peculiar/x509";
import { ALG, createLocalCa, DAY, pkcs8Pem, randomSerial } from "./local-ca.ts";
import { pkcs12 } from "./pkcs12.ts";

export interface DemoPki {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  p12File: string;
  caPem: string;
}

export const demoPkiDir = (dataDir: string) => path.join(dataDir, "demo-pki");

async function issueClient(dir: string, user: { username: string; email: string }, p12Password: string): Promise<void> {
  const caPem = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
  const ca = new x509.X509Certificate(caPem);
  const caDer = x509.PemConverter.decode(fs.readFileSync(path.join(dir, "ca.key"), "utf8"))[0] as ArrayBuffer;
  const caKey = await crypto.subtle.importKey("pkcs8", caDer, ALG, false, ["sign"]);
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${user.username}, E=${user.email}, O=x509-idp demo`,
    issuer: ca.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 2 * 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "email", value: user.email }]),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = await pkcs8Pem(keys.privateKey);
  fs.writeFileSync(path.join(dir, `${user.username}.crt`), `${cert.toString("pem")}\n`);
  fs.writeFileSync(path.join(dir, `${user.username}.key`), `${keyPem}\n`, { mode: 0o600 });
  const p12 = pkcs12(createPrivateKey(keyPem), [new Uint8Array(cert.rawData), new Uint8Array(ca.rawData)], p12Password, user.username);
  fs.writeFileSync(path.join(dir, `${user.username}.p12`), p12, { mode: 0o600 });
}

/** The demo PKI for `user`, created or completed as needed. */
export async function ensureDemoPki(dataDir: string, user: { username: string; email: string }, p12Password: string): Promise<DemoPki> {
  const dir = demoPkiDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = path.join(dir, "ca.crt");
  if (!fs.existsSync(caFile) || !fs.existsSync(path.join(dir, "ca.key"))) await createLocalCa(dir, "CN=x509-idp demo client CA, O=x509-idp demo");
  const certFile = path.join(dir, `${user.username}.crt`);
  const current = fs.existsSync(certFile) ? new NodeX509(fs.readFileSync(certFile)) : undefined;
  const stale = !current || new Date(current.validTo).getTime() - Date.now() < 30 * DAY || !current.checkIssued(new NodeX509(fs.readFileSync(caFile)));
  if (stale || !fs.existsSync(path.join(dir, `${user.username}.p12`))) await issueClient(dir, user, p12Password);
  return {
    dir,
    caFile,
    certFile,
    keyFile: path.join(dir, `${user.username}.key`),
    p12File: path.join(dir, `${user.username}.p12`),
    caPem: fs.readFileSync(caFile, "utf8"),
  };
}
