// Reverse-proxy lookups, in this process on one core: reading the certificate from each proxy's header format, and
// for the two shapes that matter (nginx: the leaf alone; HAProxy: leaf + intermediates) the chain completed and
// verified against a realm's trust anchors (trust/path.ts), which is what a forwarded certificate costs on top of one
// that arrives over x509-idp's own TLS. RSA-2048 certificates (larger headers than P-256). Target: under 100 µs.
import { createLookup, type CertificateLookup, type HeaderFields } from "../src/x509/index.ts";
import { buildPath } from "../src/x509/trust/path.ts";
import { TrustStore } from "../src/x509/trust/trust-store.ts";
import { buildPki } from "../test/helpers/pki.ts";
import { measure, type MicroResult } from "./x509.ts";

export function lookupBenchmarks(seconds: number): MicroResult[] {
  const pki = buildPki({ alg: "RS256" });
  const b64 = (d: Uint8Array) => Buffer.from(d).toString("base64");
  const sf = (d: Uint8Array) => `:${b64(d)}:`;
  const cases: [string, CertificateLookup, HeaderFields][] = [
    ["nginx: URL-encoded PEM leaf", createLookup("nginx") as CertificateLookup, { "ssl-client-cert": [encodeURIComponent(pki.leaf.pem)] }],
    ["haproxy: leaf + intermediate as RFC 8941 byte sequences", createLookup("haproxy") as CertificateLookup, { "client-cert": [sf(pki.leaf.der)], "client-cert-chain": [sf(pki.intermediate.der)] }],
    ["rfc9440: Client-Cert + Client-Cert-Chain", createLookup("rfc9440") as CertificateLookup, { "client-cert": [sf(pki.leaf.der)], "client-cert-chain": [sf(pki.intermediate.der)] }],
    ["apache: PEM leaf + SSL_CLIENT_CERT_CHAIN_0", createLookup("apache", { "ssl-cert-chain-prefix": "SSL_CLIENT_CERT_CHAIN" }) as CertificateLookup, { ssl_client_cert: [pki.leaf.pem.replace(/\n/g, " ")], ssl_client_cert_chain_0: [pki.intermediate.pem] }],
    ["traefik: two base64 certificates", createLookup("traefik") as CertificateLookup, { "x-forwarded-tls-client-cert": [`${b64(pki.leaf.der)},${b64(pki.intermediate.der)}`] }],
    ["envoy: XFCC element with Hash, Cert, Chain, Subject, URI", createLookup("envoy") as CertificateLookup, {
      "x-forwarded-client-cert": [`By=spiffe://idp;Hash=${pki.leaf.cert.sha256};Cert="${encodeURIComponent(pki.leaf.pem)}";Chain="${encodeURIComponent(pki.leaf.pem + pki.intermediate.pem)}";Subject="CN=test-user,O=Red Hat";URI=spiffe://client`],
    }],
    ["aws-alb: URL-encoded PEM chain", createLookup("aws-alb") as CertificateLookup, { "x-amzn-mtls-clientcert": [encodeURIComponent(pki.leaf.pem + pki.intermediate.pem)] }],
  ];
  const out: MicroResult[] = [];
  for (const [label, lookup, fields] of cases) {
    out.push(measure(`${label}: read and parsed`, seconds, () => {
      if (lookup.lookup(fields).kind !== "chain") throw new Error(`${label}: no chain`);
    }));
  }
  // Chain completion: nginx's leaf alone against anchors that list the intermediate; HAProxy's forwarded chain
  // against the root alone. Signatures verified at an earlier login are remembered (signature.ts), as for TLS.
  const withIntermediate = new TrustStore([pki.root.cert, pki.intermediate.cert]);
  const rootOnly = new TrustStore([pki.root.cert]);
  const completed = (label: string, lookup: CertificateLookup, fields: HeaderFields, store: TrustStore) =>
    measure(label, seconds, () => {
      const r = lookup.lookup(fields);
      if (r.kind !== "chain") throw new Error("no chain");
      const [leaf, ...rest] = r.chain;
      if (!leaf || !buildPath(leaf, rest, store).ok) throw new Error("no path");
    });
  const [nginx, haproxy] = cases;
  if (!nginx || !haproxy) throw new Error("cases");
  out.push(completed("nginx: read + chain completed from the realm's anchors (root + intermediate) and verified", nginx[1], nginx[2], withIntermediate));
  out.push(completed("haproxy: read + forwarded chain verified up to the realm's root", haproxy[1], haproxy[2], rootOnly));
  return out;
}
