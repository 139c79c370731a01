// The demo PKI for newcomers, in <data>/demo-pki: a demo CA, a client certificate for the demo user (PEM and key for
// curl, a .p12 for browsers) and one for the demo service client (its SAN URI is a SPIFFE ID; RFC 8705
// tls_client_auth). Created once; an existing PKI is reused (and a certificate renewed when it expires within 30
// days).
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
  /** The demo service client's certificate and key (client credentials with tls_client_auth). */
  serviceCertFile: string;
  serviceKeyFile: string;
}

/** The demo service client: it authenticates with the certificate whose SAN URI is this SPIFFE ID. */
export const DEMO_SERVICE = { clientId: "demo-service", spiffeId: "spiffe://x509-idp.demo/demo-service" } as const;

export const demoPkiDir = (dataDir: string) => path.join(dataDir, "demo-pki");

interface Issued {
  subject: string;
  san: x509.JsonGeneralNames;
}

async function issue(dir: string, file: string, what: Issued): Promise<{ cert: x509.X509Certificate; ca: x509.X509Certificate; keyPem: string }> {
  const caPem = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
  const ca = new x509.X509Certificate(caPem);
  const caDer = x509.PemConverter.decode(fs.readFileSync(path.join(dir, "ca.key"), "utf8"))[0] as ArrayBuffer;
  const caKey = await crypto.subtle.importKey("pkcs8", caDer, ALG, false, ["sign"]);
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: what.subject,
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
      new x509.SubjectAlternativeNameExtension(what.san),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = await pkcs8Pem(keys.privateKey);
  fs.writeFileSync(path.join(dir, `${file}.crt`), `${cert.toString("pem")}\n`);
  fs.writeFileSync(path.join(dir, `${file}.key`), `${keyPem}\n`, { mode: 0o600 });
  return { cert, ca, keyPem };
}

async function issueClient(dir: string, user: { username: string; email: string }, p12Password: string): Promise<void> {
  const { cert, ca, keyPem } = await issue(dir, user.username, { subject: `CN=${user.username}, E=${user.email}, O=x509-idp demo`, san: [{ type: "email", value: user.email }] });
  const p12 = pkcs12(createPrivateKey(keyPem), [new Uint8Array(cert.rawData), new Uint8Array(ca.rawData)], p12Password, user.username);
  fs.writeFileSync(path.join(dir, `${user.username}.p12`), p12, { mode: 0o600 });
}

/** Whether `file` is missing, expires within 30 days or was not issued by the CA in `caFile`. */
function due(file: string, caFile: string): boolean {
  const current = fs.existsSync(file) ? new NodeX509(fs.readFileSync(file)) : undefined;
  return !current || new Date(current.validTo).getTime() - Date.now() < 30 * DAY || !current.checkIssued(new NodeX509(fs.readFileSync(caFile)));
}

/** The demo PKI for `user`, created or completed as needed. */
export async function ensureDemoPki(dataDir: string, user: { username: string; email: string }, p12Password: string): Promise<DemoPki> {
  const dir = demoPkiDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = path.join(dir, "ca.crt");
  if (!fs.existsSync(caFile) || !fs.existsSync(path.join(dir, "ca.key"))) await createLocalCa(dir, "CN=x509-idp demo client CA, O=x509-idp demo");
  const certFile = path.join(dir, `${user.username}.crt`);
  if (due(certFile, caFile) || !fs.existsSync(path.join(dir, `${user.username}.p12`))) await issueClient(dir, user, p12Password);
  const serviceCertFile = path.join(dir, `${DEMO_SERVICE.clientId}.crt`);
  if (due(serviceCertFile, caFile) || !fs.existsSync(path.join(dir, `${DEMO_SERVICE.clientId}.key`))) {
    await issue(dir, DEMO_SERVICE.clientId, { subject: `CN=${DEMO_SERVICE.clientId}, O=x509-idp demo`, san: [{ type: "url", value: DEMO_SERVICE.spiffeId }] });
  }
  return {
    dir,
    caFile,
    certFile,
    keyFile: path.join(dir, `${user.username}.key`),
    p12File: path.join(dir, `${user.username}.p12`),
    caPem: fs.readFileSync(caFile, "utf8"),
    serviceCertFile,
    serviceKeyFile: path.join(dir, `${DEMO_SERVICE.clientId}.key`),
  };
}
