// The HTTPS server's certificate: IDP_TLS_CERT/IDP_TLS_KEY when set, otherwise a local CA and a localhost server
// certificate generated into <data>/tls on first start (curl --cacert <data>/tls/ca.crt trusts it). The server
// certificate is reissued when it expires within 30 days or no longer covers the public host name.
import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";
import { ALG, createLocalCa, DAY, pkcs8Pem, randomSerial, type LocalCa } from "../demo/local-ca.ts";

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where a client finds the certificate to trust (the generated CA, or the configured certificate). */
  trustFile: string;
  generated: boolean;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error("empty key file");
  return crypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]);
}

function covers(cert: x509.X509Certificate, host: string): boolean {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  return names.some((n) => (n.type === "dns" || n.type === "ip") && n.value.toLowerCase() === host.toLowerCase());
}

async function issueServerCert(dir: string, ca: LocalCa, host: string): Promise<void> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const hosts = new Set(["localhost", "127.0.0.1", "::1", host.replace(/^\[|\]$/g, "")]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=localhost",
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 397 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...hosts].map((h) => ({ type: isIP(h) ? "ip" as const : "dns" as const, value: h }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
    ],
  });
  fs.writeFileSync(path.join(dir, "server.crt"), `${cert.toString("pem")}\n${ca.cert.toString("pem")}\n`);
  fs.writeFileSync(path.join(dir, "server.key"), `${await pkcs8Pem(keys.privateKey)}\n`, { mode: 0o600 });
}

export async function loadTls(options: { dataDir: string; certFile?: string | undefined; keyFile?: string | undefined; publicHost: string }): Promise<TlsMaterial> {
  if (options.certFile && options.keyFile) {
    return {
      cert: fs.readFileSync(options.certFile, "utf8"),
      key: fs.readFileSync(options.keyFile, "utf8"),
      trustFile: options.certFile,
      generated: false,
    };
  }
  const dir = path.join(options.dataDir, "tls");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = path.join(dir, "ca.crt");
  const ca = fs.existsSync(caFile)
    ? { cert: new x509.X509Certificate(fs.readFileSync(caFile, "utf8")), key: await importKey(fs.readFileSync(path.join(dir, "ca.key"), "utf8")) }
    : await createLocalCa(dir, "CN=x509-idp local CA");
  const serverFile = path.join(dir, "server.crt");
  const leaf = fs.existsSync(serverFile) ? x509.PemConverter.decode(fs.readFileSync(serverFile, "utf8"))[0] : undefined;
  const current = leaf ? new x509.X509Certificate(leaf) : undefined;
  if (!current || current.notAfter.getTime() - Date.now() < 30 * DAY || !covers(current, options.publicHost.replace(/^\[|\]$/g, ""))) {
    await issueServerCert(dir, ca, options.publicHost);
  }
  return {
    cert: fs.readFileSync(serverFile, "utf8"),
    key: fs.readFileSync(path.join(dir, "server.key"), "utf8"),
    trustFile: caFile,
    generated: true,
  };
}
