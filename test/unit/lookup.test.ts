// Certificate lookups (keycloak-x509.md §6, peers.md §10): each provider's format, Keycloak's options and defaults,
// and every malformed input a proxy (or someone posing as one) can send.
import { beforeAll, describe, expect, it } from "vitest";
import { createLookup, MAX_HEADER_BYTES, X509ConfigError, type CertificateLookup, type LookupResult } from "../../src/x509/index.ts";
import { parseXfcc } from "../../src/x509/lookup/xfcc.ts";
import { parseItem, parseList } from "../../src/x509/lookup/structured-fields.ts";
import { buildPki, type Pki } from "../helpers/pki.ts";

let pki: Pki;
beforeAll(() => {
  pki = buildPki();
});

type Fields = Record<string, string | string[]>;
const run = (l: CertificateLookup | undefined, fields: Fields): LookupResult => {
  if (!l) throw new Error("no lookup");
  return l.lookup(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]])));
};
const b64 = (der: Uint8Array) => Buffer.from(der).toString("base64");
const sf = (der: Uint8Array) => `:${b64(der)}:`;
const escaped = (pem: string) => encodeURIComponent(pem);
const shas = (r: LookupResult) => (r.kind === "chain" ? r.chain.map((c) => c.sha256) : r);
const leafSha = () => pki.leaf.cert.sha256;
const interSha = () => pki.intermediate.cert.sha256;
const expectError = (r: LookupResult, code: string, message?: RegExp) => {
  expect(r.kind).toBe("error");
  if (r.kind === "error") {
    expect(r.code).toBe(code);
    if (message) expect(r.message).toMatch(message);
  }
};

describe("nginx ($ssl_client_escaped_cert)", () => {
  it("reads the URL-encoded PEM leaf from ssl-client-cert by default", () => {
    expect(shas(run(createLookup("nginx"), { "ssl-client-cert": escaped(pki.leaf.pem) }))).toEqual([leafSha()]);
  });

  it("no header, or an empty one, is no certificate", () => {
    expect(run(createLookup("nginx"), {})).toEqual({ kind: "none" });
    expect(run(createLookup("nginx"), { "ssl-client-cert": "" })).toEqual({ kind: "none" });
  });

  it("with trust-proxy-verification, uses the certificate only when ssl-client-verify is SUCCESS (Keycloak)", () => {
    const l = createLookup("nginx", { "trust-proxy-verification": "true" });
    expect(shas(run(l, { "ssl-client-cert": escaped(pki.leaf.pem), "ssl-client-verify": "SUCCESS" }))).toEqual([leafSha()]);
    expect(run(l, { "ssl-client-cert": escaped(pki.leaf.pem), "ssl-client-verify": "FAILED:unable to verify the first certificate" })).toEqual({
      kind: "none",
      note: "nginx could not verify the certificate: ssl-client-verify: FAILED:unable to verify the first certificate",
    });
    expect(run(l, { "ssl-client-cert": escaped(pki.leaf.pem) })).toMatchObject({ kind: "none", note: expect.stringContaining("(absent)") });
  });

  it("reads chain headers <prefix>_0 … <prefix>_{n-1} and honours a custom header name and cert-is-url-encoded=false", () => {
    const l = createLookup("nginx", { "ssl-client-cert": "X-Client-Cert", "ssl-cert-chain-prefix": "X-Chain", "certificate-chain-length": "2", "cert-is-url-encoded": "false" });
    expect(l?.headers).toEqual(["x-client-cert", "ssl-client-verify", "x-chain_0", "x-chain_1"]);
    expect(shas(run(l, { "x-client-cert": pki.leaf.pem.replace(/\n/g, " "), "x-chain_0": pki.intermediate.pem }))).toEqual([leafSha(), interSha()]);
  });

  it("refuses malformed URL encoding, bad base64, a non-certificate and two certificates where one belongs", () => {
    const l = createLookup("nginx");
    expectError(run(l, { "ssl-client-cert": "-----BEGIN%20CERTIFICATE-----%0AMII%ZZ" }), "BAD_HEADER", /malformed URL encoding/);
    expectError(run(l, { "ssl-client-cert": escaped("-----BEGIN CERTIFICATE-----\nMII*B\n-----END CERTIFICATE-----\n") }), "BAD_CERTIFICATE", /base64/);
    expectError(run(l, { "ssl-client-cert": escaped("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }), "BAD_CERTIFICATE", /not a valid X.509 certificate/);
    expectError(run(l, { "ssl-client-cert": escaped(pki.leaf.pem + pki.intermediate.pem) }), "CHAIN_TOO_LONG");
  });

  it("refuses the header twice (a proxy that appends instead of replacing)", () => {
    expectError(run(createLookup("nginx"), { "ssl-client-cert": [escaped(pki.leaf.pem), escaped(pki.leaf.pem)] }), "DUPLICATE_HEADER", /appears 2 times/);
  });

  it("refuses a header larger than the limit before decoding it", () => {
    expectError(run(createLookup("nginx"), { "ssl-client-cert": "A".repeat(MAX_HEADER_BYTES + 1) }), "HEADER_TOO_LARGE");
  });
});

describe("apache (SSL_CLIENT_CERT, SSL_CLIENT_CERT_CHAIN_n)", () => {
  it("reads PEM with line breaks turned into spaces, trims surrounding quotes, and reads the chain headers", () => {
    const l = createLookup("apache", { "ssl-cert-chain-prefix": "SSL_CLIENT_CERT_CHAIN", "certificate-chain-length": "3" });
    const r = run(l, { SSL_CLIENT_CERT: `"${pki.leaf.pem.replace(/\n/g, " ")}"`, SSL_CLIENT_CERT_CHAIN_0: pki.intermediate.pem, SSL_CLIENT_CERT_CHAIN_1: "(null)" });
    expect(shas(r)).toEqual([leafSha(), interSha()]);
  });

  it("\"(null)\" (no client certificate) is no certificate", () => {
    expect(run(createLookup("apache"), { SSL_CLIENT_CERT: "(null)" })).toEqual({ kind: "none" });
  });

  it("a chain header that is not a certificate is an error, not silently dropped", () => {
    const l = createLookup("apache", { "ssl-cert-chain-prefix": "SSL_CLIENT_CERT_CHAIN" });
    expectError(run(l, { SSL_CLIENT_CERT: pki.leaf.pem, SSL_CLIENT_CERT_CHAIN_0: "garbage" }), "BAD_CERTIFICATE", /ssl_client_cert_chain_0/);
  });
});

describe("haproxy (Client-Cert, Client-Cert-Chain)", () => {
  it("reads the leaf as an RFC 8941 byte sequence and the intermediates as concatenated DER (HAProxy's ssl_c_chain_der)", () => {
    const chain = Buffer.concat([pki.intermediate.der, pki.root.der]);
    const l = createLookup("haproxy", { "certificate-chain-length": "2" });
    expect(shas(run(l, { "client-cert": sf(pki.leaf.der), "client-cert-chain": `:${chain.toString("base64")}:` }))).toEqual([leafSha(), interSha(), pki.root.cert.sha256]);
  });

  it("uses the first certificate-chain-length certificates of the chain (Keycloak)", () => {
    const chain = Buffer.concat([pki.intermediate.der, pki.root.der]).toString("base64");
    expect(shas(run(createLookup("haproxy"), { "client-cert": sf(pki.leaf.der), "client-cert-chain": chain }))).toEqual([leafSha(), interSha()]);
  });

  it("also reads plain base64 DER and PEM (older HAProxy guides), and \"::\" (no certificate) as none", () => {
    expect(shas(run(createLookup("haproxy"), { "client-cert": b64(pki.leaf.der) }))).toEqual([leafSha()]);
    expect(shas(run(createLookup("haproxy"), { "client-cert": pki.leaf.pem }))).toEqual([leafSha()]);
    expect(run(createLookup("haproxy"), { "client-cert": "::" })).toEqual({ kind: "none" });
  });

  it("refuses wrong colons, bad base64 inside them, and DER that is not a certificate", () => {
    const l = createLookup("haproxy");
    expectError(run(l, { "client-cert": `:${b64(pki.leaf.der)}` }), "BAD_HEADER", /unterminated byte sequence/);
    expectError(run(l, { "client-cert": `:${b64(pki.leaf.der)}:x` }), "BAD_HEADER");
    expectError(run(l, { "client-cert": ":MII$:" }), "BAD_HEADER", /invalid base64/);
    expectError(run(l, { "client-cert": `:${b64(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))}:` }), "BAD_CERTIFICATE");
    expectError(run(l, { "client-cert": `${sf(pki.leaf.der)}, ${sf(pki.leaf.der)}` }), "BAD_HEADER", /one certificate/);
  });
});

describe("traefik (X-Forwarded-Tls-Client-Cert)", () => {
  it("reads comma-separated base64 certificates without delimiters, leaf first, URL-escaped or not", () => {
    const l = createLookup("traefik");
    const value = [pki.leaf.der, pki.intermediate.der].map(b64).join(",");
    expect(shas(run(l, { "x-forwarded-tls-client-cert": value }))).toEqual([leafSha(), interSha()]);
    expect(shas(run(l, { "x-forwarded-tls-client-cert": [pki.leaf.der, pki.intermediate.der].map((d) => encodeURIComponent(b64(d))).join(",") }))).toEqual([leafSha(), interSha()]);
  });

  it("keeps the leaf and at most certificate-chain-length more (Keycloak)", () => {
    const value = [pki.leaf.der, pki.intermediate.der, pki.root.der].map(b64).join(",");
    expect(shas(run(createLookup("traefik"), { "x-forwarded-tls-client-cert": value }))).toEqual([leafSha(), interSha()]);
  });

  it("refuses an element that is not a certificate", () => {
    expectError(run(createLookup("traefik"), { "x-forwarded-tls-client-cert": `${b64(pki.leaf.der)},bm90IGEgY2VydA==` }), "BAD_CERTIFICATE");
  });
});

describe("rfc9440 (Client-Cert, Client-Cert-Chain)", () => {
  it("reads the leaf and a chain list spread over several field lines", () => {
    const l = createLookup("rfc9440", { "certificate-chain-length": "2" });
    const r = run(l, { "client-cert": sf(pki.leaf.der), "client-cert-chain": [sf(pki.intermediate.der), `${sf(pki.root.der)};p=1`] });
    expect(shas(r)).toEqual([leafSha(), interSha(), pki.root.cert.sha256]);
  });

  it("no Client-Cert is no certificate, even with a chain", () => {
    expect(run(createLookup("rfc9440"), { "client-cert-chain": sf(pki.intermediate.der) })).toEqual({ kind: "none" });
  });

  it("Client-Cert more than once violates RFC 9440 §2.2", () => {
    expectError(run(createLookup("rfc9440"), { "client-cert": [sf(pki.leaf.der), sf(pki.leaf.der)] }), "DUPLICATE_HEADER", /RFC 9440 §2\.2/);
  });

  it("a value not wrapped in colons violates RFC 8941 §3.3.5; bad base64 or DER is refused", () => {
    const l = createLookup("rfc9440");
    expectError(run(l, { "client-cert": b64(pki.leaf.der) }), "BAD_HEADER", /RFC 8941 §3\.3\.5/);
    expectError(run(l, { "client-cert": ":not base64!:" }), "BAD_HEADER");
    expectError(run(l, { "client-cert": ":AAAA:" }), "BAD_CERTIFICATE");
    expectError(run(l, { "client-cert": sf(pki.leaf.der), "client-cert-chain": `${sf(pki.intermediate.der)},` }), "BAD_HEADER", /trailing comma/);
    expectError(run(l, { "client-cert": sf(pki.leaf.der), "client-cert-chain": `"a string"` }), "BAD_HEADER", /byte sequence/);
    expectError(run(l, { "client-cert": sf(pki.leaf.der), "client-cert-chain": `(${sf(pki.intermediate.der)})` }), "BAD_HEADER", /inner lists/);
  });

  it("a chain longer than certificate-chain-length gets Keycloak's message", () => {
    const r = run(createLookup("rfc9440"), { "client-cert": sf(pki.leaf.der), "client-cert-chain": `${sf(pki.intermediate.der)}, ${sf(pki.root.der)}` });
    expectError(r, "CHAIN_TOO_LONG");
    expect(r).toMatchObject({ message: "The amount of certificates in the chain header 2 is bigger than the configured limit of 1." });
  });
});

describe("envoy (x-forwarded-client-cert)", () => {
  const xfccCert = (pem: string) => `"${encodeURIComponent(pem)}"`;

  it("takes Chain over Cert, from the element of the nearest proxy (the last one)", () => {
    const far = `By=spiffe://edge;Cert=${xfccCert(pki.issue({ cn: "someone-else", serial: 77 }).pem)}`;
    const near = `By=spiffe://idp;Hash=${leafSha()};Cert=${xfccCert(pki.leaf.pem)};Chain=${xfccCert(pki.leaf.pem + pki.intermediate.pem)};Subject="CN=test-user,O=Red Hat";URI=;DNS=a.example;DNS=b.example`;
    expect(shas(run(createLookup("envoy"), { "x-forwarded-client-cert": `${far},${near}` }))).toEqual([leafSha(), interSha()]);
  });

  it("skips elements whose peer is one of the proxies (trusted-proxy-uris) to reach the client's", () => {
    const client = `By=spiffe://gateway;Cert=${xfccCert(pki.leaf.pem)}`;
    const hop = `By=spiffe://sidecar;Cert=${xfccCert(pki.intermediate.pem)};URI=spiffe://gateway`;
    const l = createLookup("envoy", { "trusted-proxy-uris": "spiffe://gateway" });
    expect(shas(run(l, { "x-forwarded-client-cert": [client, hop] }))).toEqual([leafSha()]);
  });

  it("a quoted Subject cannot inject a Cert: the parser honours quotes and escapes", () => {
    const forged = `Subject="CN=x\\",Cert=${encodeURIComponent(pki.intermediate.pem)}";Cert=${xfccCert(pki.leaf.pem)}`;
    expect(shas(run(createLookup("envoy"), { "x-forwarded-client-cert": forged }))).toEqual([leafSha()]);
    expect(parseXfcc('A="x,y;z=\\"q\\"";B=1')).toEqual([new Map([["a", ['x,y;z="q"']], ["b", ["1"]]])]);
  });

  it("reads values full of escapes and headers of many short quoted values exactly", () => {
    const escaped = '\\"'.repeat(10_000); // \" ten thousand times
    expect(parseXfcc(`A="${escaped}";B="x"`)).toEqual([new Map([["a", ['"'.repeat(10_000)]], ["b", ["x"]]])]);
    const many = Array.from({ length: 5_000 }, (_, k) => `By="h${k}"`).join(",");
    const elements = parseXfcc(many);
    expect(elements).toHaveLength(5_000);
    expect(elements[4_999]?.get("by")).toEqual(["h4999"]);
    expect(parseXfcc('A="a\\\\b"')).toEqual([new Map([["a", ["a\\b"]]])]);
  });

  it("refuses broken quoting, a repeated Cert, a Hash that is not the certificate's, and an element without a certificate", () => {
    const l = createLookup("envoy");
    expectError(run(l, { "x-forwarded-client-cert": `Cert="${encodeURIComponent(pki.leaf.pem)}` }), "BAD_HEADER", /unterminated/);
    expectError(run(l, { "x-forwarded-client-cert": `Cert=${xfccCert(pki.leaf.pem)}x` }), "BAD_HEADER", /after a quoted value/);
    expectError(run(l, { "x-forwarded-client-cert": `Cert=${xfccCert(pki.leaf.pem)};Cert=${xfccCert(pki.leaf.pem)}` }), "BAD_HEADER", /cert appears twice/);
    expectError(run(l, { "x-forwarded-client-cert": `Hash=${"0".repeat(64)};Cert=${xfccCert(pki.leaf.pem)}` }), "BAD_HEADER", /Hash/);
    expectError(run(l, { "x-forwarded-client-cert": `By=spiffe://idp;Hash=${leafSha()}` }), "BAD_HEADER", /neither Cert nor Chain/);
    expectError(run(l, { "x-forwarded-client-cert": "Cert" }), "BAD_HEADER", /key=value/);
    expectError(run(l, { "x-forwarded-client-cert": `Cert=${xfccCert(pki.leaf.pem)};` }), "BAD_HEADER");
    expectError(run(l, { "x-forwarded-client-cert": `Chain=${xfccCert(pki.intermediate.pem + pki.root.pem)};Cert=${xfccCert(pki.leaf.pem)}` }), "BAD_HEADER", /first certificate of Chain/);
  });
});

describe("aws-alb (X-Amzn-Mtls-Clientcert, -Leaf)", () => {
  // The ALB encodes PEM with "+", "=" and "/" left as they are.
  const albEncoded = (pem: string) => encodeURIComponent(pem).replace(/%2B/g, "+").replace(/%3D/g, "=").replace(/%2F/g, "/");

  it("passthrough: the whole chain, leaf first", () => {
    expect(shas(run(createLookup("aws-alb"), { "x-amzn-mtls-clientcert": albEncoded(pki.leaf.pem + pki.intermediate.pem + pki.root.pem) }))).toEqual([leafSha(), interSha(), pki.root.cert.sha256]);
  });

  it("verify mode: the leaf alone", () => {
    expect(shas(run(createLookup("aws-alb"), { "x-amzn-mtls-clientcert-leaf": albEncoded(pki.leaf.pem) }))).toEqual([leafSha()]);
  });

  it("strips the ALB's descriptive fields too, and refuses a chain over the limit", () => {
    expect(createLookup("aws-alb")?.headers).toContain("x-amzn-mtls-clientcert-subject");
    const l = createLookup("aws-alb", { "certificate-chain-length": "1" });
    expectError(run(l, { "x-amzn-mtls-clientcert": albEncoded(pki.leaf.pem + pki.intermediate.pem + pki.root.pem) }), "CHAIN_TOO_LONG");
  });
});

describe("options", () => {
  it("tls has no header lookup and no options", () => {
    expect(createLookup("tls")).toBeUndefined();
    expect(() => createLookup("tls", { "ssl-client-cert": "x" })).toThrow(X509ConfigError);
  });

  it("refuses an unknown provider, an option of another provider, a bad header name, count or flag, naming the option", () => {
    const key = (f: () => unknown) => { try { f(); } catch (e) { return (e as X509ConfigError).key; } return undefined; };
    expect(key(() => createLookup("squid"))).toBe("provider");
    expect(key(() => createLookup("traefik", { "ssl-cert-chain-prefix": "X" }))).toBe("ssl-cert-chain-prefix");
    expect(key(() => createLookup("nginx", { "ssl-client-cert": "bad header" }))).toBe("ssl-client-cert");
    expect(key(() => createLookup("nginx", { "certificate-chain-length": "11" }))).toBe("certificate-chain-length");
    expect(key(() => createLookup("nginx", { "certificate-chain-length": "-1" }))).toBe("certificate-chain-length");
    expect(key(() => createLookup("nginx", { "trust-proxy-verification": "yes" }))).toBe("trust-proxy-verification");
  });
});

describe("RFC 8941 structured fields", () => {
  it("parses byte sequences with parameters, lists, and refuses what RFC 8941 §4.2 refuses", () => {
    expect(parseItem(" :AQID:;a=1;b ").item).toEqual({ type: "binary", bytes: Uint8Array.of(1, 2, 3) });
    expect(parseItem(":AQID:;a=1;b").params.get("a")).toEqual({ type: "number", value: 1 });
    expect(parseList(":AQ==:, :Ag==:").map((m) => m.item)).toEqual([{ type: "binary", bytes: Uint8Array.of(1) }, { type: "binary", bytes: Uint8Array.of(2) }]);
    expect(parseList("")).toEqual([]);
    for (const bad of [":AQ", ":A:", "a b", ":AQ==:,", ';a', ":AQ==:;A=1", '"unterminated']) expect(() => parseList(bad), bad).toThrow();
  });
});

describe("robustness", () => {
  it("20,000 mutated header values over every provider: always a typed result, never an exception", () => {
    const seeds: [string, Fields][] = [
      ["nginx", { "ssl-client-cert": escaped(pki.leaf.pem) }],
      ["apache", { ssl_client_cert: pki.leaf.pem }],
      ["haproxy", { "client-cert": sf(pki.leaf.der), "client-cert-chain": sf(pki.intermediate.der) }],
      ["traefik", { "x-forwarded-tls-client-cert": `${b64(pki.leaf.der)},${b64(pki.intermediate.der)}` }],
      ["envoy", { "x-forwarded-client-cert": `By=spiffe://x;Hash=${leafSha()};Cert="${escaped(pki.leaf.pem)}";Subject="CN=a,O=b";URI=spiffe://c` }],
      ["rfc9440", { "client-cert": sf(pki.leaf.der), "client-cert-chain": sf(pki.intermediate.der) }],
      ["aws-alb", { "x-amzn-mtls-clientcert": escaped(pki.leaf.pem) }],
    ];
    let state = 0x9e3779b9;
    const rand = (n: number) => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return state % n;
    };
    const specials = [",", ";", ":", '"', "=", "%", "\\", " ", "%ZZ", "-----BEGIN CERTIFICATE-----", "(", "?1", "\u00ff"];
    const mutate = (v: string) => {
      const i = rand(v.length + 1);
      switch (rand(4)) {
        case 0: return v.slice(0, i);
        case 1: return v.slice(0, i) + (specials[rand(specials.length)] as string) + v.slice(i);
        case 2: return v.slice(0, i) + v.slice(i + 1 + rand(40));
        default: return v.slice(0, i) + String.fromCharCode(32 + rand(95)) + v.slice(i + 1);
      }
    };
    const counts = { chain: 0, none: 0, error: 0 };
    for (let n = 0; n < 20_000; n++) {
      const [id, fields] = seeds[n % seeds.length] as [string, Fields];
      const mutated = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, rand(2) ? mutate(mutate(v as string)) : (v as string)]));
      const r = run(createLookup(id), mutated);
      counts[r.kind]++;
      if (r.kind === "error") expect(r.message.length).toBeGreaterThan(0);
    }
    expect(counts.error).toBeGreaterThan(1000);
    expect(counts.chain).toBeGreaterThan(1000);
  });
});
