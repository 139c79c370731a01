// The certificate chain the client presented on this TLS connection, parsed once per connection (renegotiation is
// disabled on the HTTPS server, so it cannot change). Plain HTTP connections have none; certificates forwarded by
// reverse proxies are a later release's lookup providers.
//
// A resumed TLS session carries the client's certificate but not the intermediates it sent (OpenSSL keeps only the
// leaf in the session), so the chain of each full handshake is remembered by its leaf and given back when that
// leaf returns on a resumed session (resumption needs a full handshake with this process first).
import type { IncomingMessage } from "node:http";
import { TLSSocket, type PeerCertificate, type DetailedPeerCertificate } from "node:tls";
import { X509Certificate } from "node:crypto";
import { Certificate, CertificateParseError } from "../x509/index.ts";
import { Lru } from "../x509/signature.ts";

interface Presented {
  chain: Certificate[];
  /** The leaf as node:crypto sees it (oidc-provider's mTLS thumbprints). */
  leaf: X509Certificate;
}

const cache = new WeakMap<TLSSocket, Presented | null>();
const MAX_CHAIN = 10;
const chainsByLeaf = new Lru<string, Buffer[]>(10_000);

function peerDers(socket: TLSSocket): { ders: Buffer[]; leafKey: string } | undefined {
  const peer = socket.getPeerCertificate(true) as DetailedPeerCertificate | PeerCertificate | null;
  if (!peer || !("raw" in peer) || !peer.raw) return undefined;
  const ders: Buffer[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = peer as DetailedPeerCertificate; c?.raw && ders.length < MAX_CHAIN; c = c.issuerCertificate) {
    if (seen.has(c.fingerprint256)) break; // a self-signed certificate is its own issuer
    seen.add(c.fingerprint256);
    ders.push(c.raw);
  }
  return { ders, leafKey: peer.fingerprint256 };
}

/** Called for every new TLS connection: remembers the chain of a full handshake for later resumed sessions. */
export function rememberClientChain(socket: TLSSocket): void {
  if (socket.isSessionReused()) return;
  const p = peerDers(socket);
  if (p && p.ders.length > 1) chainsByLeaf.set(p.leafKey, p.ders);
}

function read(socket: TLSSocket): Presented | null {
  const p = peerDers(socket);
  if (!p) return null;
  const { ders, leafKey } = p;
  if (ders.length === 1 && socket.isSessionReused()) {
    const earlier = chainsByLeaf.get(leafKey);
    if (earlier && (earlier[0] as Buffer).equals(ders[0] as Buffer)) ders.splice(0, 1, ...earlier);
  }
  try {
    return { chain: ders.map((d) => new Certificate(new Uint8Array(d.buffer, d.byteOffset, d.length))), leaf: new X509Certificate(ders[0] as Buffer) };
  } catch (e) {
    if (e instanceof CertificateParseError) return null;
    throw e;
  }
}

function presented(req: IncomingMessage): Presented | null {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return null;
  let p = cache.get(socket);
  if (p === undefined) {
    p = read(socket);
    cache.set(socket, p);
  }
  return p;
}

/** The client's certificate chain (leaf first), or undefined when it presented none. */
export function clientCertificateChain(req: IncomingMessage): Certificate[] | undefined {
  return presented(req)?.chain;
}

/** The client's certificate for oidc-provider (certificate-bound tokens), or undefined. */
export function clientX509Certificate(req: IncomingMessage): X509Certificate | undefined {
  return presented(req)?.leaf;
}
