// The chain a client presents on the TLS connection, read with getPeerX509Certificate() and its issuerCertificate
// links: every certificate it sent, leaf first, for chains of one to four certificates, and the same chain again on
// a resumed session (where TLS gives the leaf only).
import type { IncomingMessage } from "node:http";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { ClientCertificates } from "../../src/http/client-certificate.ts";
import { buildCert, ext, newKey, type BuiltCert, type KeyPair } from "../helpers/certs.ts";
import { name } from "../helpers/der-build.ts";
import { keyPem } from "../helpers/pki.ts";

const DAY = 86_400_000;
const cn = (s: string) => name([[["CN", "utf8", s]]]);

/** root → CA 1 → … → CA n-1 → leaf: the leaf and its n-1 issuers below the root (what a client sends). */
function chainOf(n: number): { root: BuiltCert; sent: BuiltCert[]; leafKey: KeyPair } {
  const rootKey = newKey();
  const validity = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) };
  const root = buildCert({ subject: cn("root"), serial: 1, key: rootKey, ...validity, extensions: [ext.basicConstraints(true), ext.keyUsage(["keyCertSign"])] });
  let issuer = { subject: cn("root"), key: rootKey };
  const cas: BuiltCert[] = [];
  for (let i = 1; i < n; i++) {
    const key = newKey();
    cas.unshift(buildCert({ subject: cn(`ca ${i}`), issuer: issuer.subject, serial: 10 + i, key, signer: issuer.key, ...validity, extensions: [ext.basicConstraints(true), ext.keyUsage(["keyCertSign"])] }));
    issuer = { subject: cn(`ca ${i}`), key };
  }
  const leafKey = newKey();
  const leaf = buildCert({ subject: cn(`leaf of ${n}`), issuer: issuer.subject, serial: 100 + n, key: leafKey, signer: issuer.key, ...validity, extensions: [ext.extKeyUsage(["clientAuth"])] });
  return { root, sent: [leaf, ...cas], leafKey };
}

const servers: tls.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/** A TLS server that asks for a certificate and answers each connection with the chain ClientCertificates read. */
async function server(certificates: ClientCertificates, rootPem: string): Promise<number> {
  const serverKey = newKey();
  const self = buildCert({ subject: cn("localhost"), serial: 7, key: serverKey, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) });
  const s = tls.createServer({ key: keyPem(serverKey), cert: self.pem, ca: rootPem, requestCert: true, rejectUnauthorized: false }, (socket) => {
    certificates.rememberChain(socket);
    const chain = certificates.chain({ socket, headers: {}, headersDistinct: {} } as unknown as IncomingMessage) ?? [];
    socket.end(JSON.stringify({ reused: socket.isSessionReused(), subjects: chain.map((c) => c.sha256) }));
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as AddressInfo).port;
}

function connect(port: number, cert: string, key: string, session?: Buffer): Promise<{ answer: { reused: boolean; subjects: string[] }; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let data = "";
    const socket = tls.connect({ host: "127.0.0.1", port, cert, key, rejectUnauthorized: false, ...(session && { session }) });
    socket.on("session", (s: Buffer) => (ticket = s));
    socket.on("data", (d: Buffer) => (data += d.toString()));
    socket.on("end", () => resolve({ answer: JSON.parse(data) as { reused: boolean; subjects: string[] }, session: ticket }));
    socket.on("error", reject);
  });
}

const hashOf = (c: BuiltCert) => c.cert.sha256;

describe("the peer chain from the TLS connection", () => {
  for (const n of [1, 2, 3, 4]) {
    it(`a chain of ${n} certificate${n > 1 ? "s" : ""} is read whole, leaf first, and again on a resumed session`, async () => {
      const { root, sent, leafKey } = chainOf(n);
      const certificates = new ClientCertificates(undefined);
      const port = await server(certificates, root.pem);
      const cert = sent.map((c) => c.pem).join("");
      const first = await connect(port, cert, keyPem(leafKey));
      expect(first.answer).toEqual({ reused: false, subjects: sent.map(hashOf) });
      expect(first.session).toBeDefined();
      const again = await connect(port, cert, keyPem(leafKey), first.session);
      expect(again.answer).toEqual({ reused: true, subjects: sent.map(hashOf) });
    });
  }

  it("no certificate: no chain", async () => {
    const { root } = chainOf(1);
    const port = await server(new ClientCertificates(undefined), root.pem);
    const answer = await new Promise<string>((resolve, reject) => {
      let data = "";
      const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
      socket.on("data", (d: Buffer) => (data += d.toString()));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(JSON.parse(answer)).toEqual({ reused: false, subjects: [] });
  });
});
