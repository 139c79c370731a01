// The certificate chain a request presents, from one of two places:
//   - a trusted proxy's header fields, read by the configured lookup (IDP_X509_LOOKUP, src/x509/lookup/); from a
//     trusted proxy only the header counts (a proxy's own TLS certificate is not the user's);
//   - otherwise the TLS connection itself (parsed once per connection: renegotiation is disabled on the HTTPS server).
// Either way the chain is only what was presented: validation completes and verifies it against the realm's trust
// anchors.
//
// A resumed TLS session carries the client's certificate but not the intermediates it sent (OpenSSL keeps only the
// leaf in the session), so the chain of each full handshake is remembered by its leaf and given back when that
// leaf returns on a resumed session (resumption needs a full handshake with this process first).
import type { IncomingMessage } from "node:http";
import { TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import { Certificate, CertificateParseError, type CertificateLookup, type HeaderFields, type LookupErrorCode } from "../x509/index.ts";
import { Lru } from "../x509/signature.ts";
import type { EventRecorder } from "../events/event-store.ts";
import { originOf } from "./forwarded.ts";

export type Presented = (
  | { kind: "certificate"; chain: Certificate[] }
  /** `note`: the proxy sent a certificate that its configuration says not to use (nginx's failed verification). */
  | { kind: "none"; note?: string }
  | { kind: "invalid"; code: LookupErrorCode; message: string }
) & {
  /** "tls", or the lookup that read a trusted proxy's header. */
  source: string;
  /** Certificate header fields an untrusted peer sent: ignored, to be recorded as a warning. */
  ignoredHeaders: readonly string[];
};

const MAX_CHAIN = 10;
const NONE = { kind: "none", source: "tls", ignoredHeaders: [] } as const satisfies Presented;

/** What the peer of one TLS connection sent: the DER of each certificate, leaf first, and the leaf's object. */
interface PeerChain {
  readonly ders: readonly Buffer[];
  readonly leaf: X509Certificate;
  /** The leaf's SHA-256 fingerprint: the key of a full handshake's chain, for the sessions resumed from it. */
  readonly leafKey: string;
}

/**
 * Read once per connection, from getPeerX509Certificate() and its issuerCertificate links (not
 * getPeerCertificate(true), which turns every certificate of the chain into an object of strings first). Each
 * X509Certificate object costs tens of µs: with a new handshake per request, that is a share of every request.
 */
function readPeerChain(socket: TLSSocket): PeerChain | undefined {
  const leaf = socket.getPeerX509Certificate();
  if (!leaf) return undefined;
  const ders: Buffer[] = [];
  for (let c: X509Certificate | undefined = leaf; c && ders.length < MAX_CHAIN; c = c.issuerCertificate) {
    const der = c.raw;
    if (ders.some((d) => d.equals(der))) break; // a self-signed certificate is its own issuer
    ders.push(der);
  }
  return { ders, leaf, leafKey: leaf.fingerprint256 };
}

export class ClientCertificates {
  readonly #lookup: CertificateLookup | undefined;
  readonly #peerBySocket = new WeakMap<TLSSocket, PeerChain | null>();
  readonly #bySocket = new WeakMap<TLSSocket, Certificate[] | null>();
  readonly #byRequest = new WeakMap<IncomingMessage, Presented>();
  readonly #x509 = new WeakMap<Certificate, X509Certificate>();
  readonly #chainsByLeaf = new Lru<string, Buffer[]>(10_000);
  /** Connections of a listener that does not ask for certificates (IDP_HTTPS_CLIENT_CERT=none). */
  readonly #notAsked = new WeakSet<TLSSocket>();

  constructor(lookup: CertificateLookup | undefined) {
    this.#lookup = lookup;
  }

  /** Header fields the lookup reads: the request gate removes them when an untrusted peer sends them. */
  get headers(): readonly string[] {
    return this.#lookup?.headers ?? [];
  }

  /** Called for every new TLS connection: remembers the chain of a full handshake for later resumed sessions. */
  rememberChain(socket: TLSSocket): void {
    if (socket.isSessionReused()) return;
    const p = this.#peer(socket);
    if (p && p.ders.length > 1) this.#chainsByLeaf.set(p.leafKey, [...p.ders]);
  }

  /** Called for every connection of a listener that does not ask clients for a certificate. */
  noCertificateAsked(socket: TLSSocket): void {
    this.#notAsked.add(socket);
  }

  /**
   * Whether this request could have brought a certificate: over TLS on a listener that asks for one, or from a
   * trusted proxy when a lookup reads its header. False on the main port with IDP_HTTPS_CLIENT_CERT=none (the
   * browser's certificate login then moves to the certificate listener).
   */
  couldPresent(req: IncomingMessage): boolean {
    if (this.#lookup && originOf(req).trustedProxy) return true;
    return req.socket instanceof TLSSocket && !this.#notAsked.has(req.socket);
  }

  #peer(socket: TLSSocket): PeerChain | undefined {
    let p = this.#peerBySocket.get(socket);
    if (p === undefined) {
      p = readPeerChain(socket) ?? null;
      this.#peerBySocket.set(socket, p);
    }
    return p ?? undefined;
  }

  /** What this request presents (computed once per request). */
  presented(req: IncomingMessage): Presented {
    let p = this.#byRequest.get(req);
    if (!p) {
      p = this.#compute(req);
      this.#byRequest.set(req, p);
    }
    return p;
  }

  /** The chain (leaf first), or undefined when there is no usable certificate. */
  chain(req: IncomingMessage): Certificate[] | undefined {
    const p = this.presented(req);
    return p.kind === "certificate" ? p.chain : undefined;
  }

  /** The leaf for oidc-provider (certificate-bound tokens, RFC 8705), or undefined. */
  x509(req: IncomingMessage): X509Certificate | undefined {
    const leaf = this.chain(req)?.[0];
    if (!leaf) return undefined;
    let x = this.#x509.get(leaf);
    if (!x) {
      x = new X509Certificate(leaf.der);
      this.#x509.set(leaf, x);
    }
    return x;
  }

  #compute(req: IncomingMessage): Presented {
    const origin = originOf(req);
    if (this.#lookup && origin.trustedProxy) {
      const r = this.#lookup.lookup(req.headersDistinct as HeaderFields);
      const source = this.#lookup.id;
      if (r.kind === "chain") return { kind: "certificate", chain: r.chain, source, ignoredHeaders: [] };
      if (r.kind === "error") return { kind: "invalid", code: r.code, message: r.message, source, ignoredHeaders: [] };
      return { kind: "none", source, ignoredHeaders: [], ...(r.note !== undefined && { note: r.note }) };
    }
    const chain = req.socket instanceof TLSSocket ? this.#tlsChain(req.socket) : undefined;
    const ignoredHeaders = origin.ignoredHeaders;
    if (!chain) return ignoredHeaders.length ? { ...NONE, ignoredHeaders } : NONE;
    return { kind: "certificate", chain, source: "tls", ignoredHeaders };
  }

  #tlsChain(socket: TLSSocket): Certificate[] | undefined {
    let chain = this.#bySocket.get(socket);
    if (chain === undefined) {
      chain = this.#readTls(socket);
      this.#bySocket.set(socket, chain);
    }
    return chain ?? undefined;
  }

  #readTls(socket: TLSSocket): Certificate[] | null {
    const p = this.#peer(socket);
    if (!p) return null;
    let ders = p.ders;
    if (ders.length === 1 && socket.isSessionReused()) {
      const earlier = this.#chainsByLeaf.get(p.leafKey);
      if (earlier && (earlier[0] as Buffer).equals(ders[0] as Buffer)) ders = earlier;
    }
    try {
      const chain = ders.map((d) => new Certificate(new Uint8Array(d.buffer, d.byteOffset, d.length)));
      // The leaf's object for oidc-provider (x509() below) is the one the socket already made.
      this.#x509.set(chain[0] as Certificate, p.leaf);
      return chain;
    } catch (e) {
      if (e instanceof CertificateParseError) return null;
      throw e;
    }
  }
}

/** A forged certificate header is worth an audit entry in the realm it was aimed at (besides the log line). */
export function recordIgnoredHeaders(events: EventRecorder, p: Presented, base: { realmId: string; clientId?: string | undefined; ipAddress?: string | undefined }): void {
  if (p.ignoredHeaders.length === 0) return;
  events.record({ ...base, type: "UNTRUSTED_PROXY_HEADER", details: { headers: p.ignoredHeaders.join(", "), used: p.kind === "certificate" ? "tls certificate" : "no certificate" } });
}
