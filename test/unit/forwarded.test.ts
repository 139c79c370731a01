// The request gate (IDP_TRUSTED_PROXIES) and the certificate source behind it: a header counts only from a trusted
// proxy; from anyone else it is removed, remembered for the audit log, and the TLS connection decides.
import type { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { ClientCertificates } from "../../src/http/client-certificate.ts";
import { forwardedClient, originOf, requestGate } from "../../src/http/forwarded.ts";
import { createLogger } from "../../src/log.ts";
import { TrustedProxies } from "../../src/net/trusted-proxies.ts";
import { createLookup } from "../../src/x509/index.ts";
import { buildPki, type Pki } from "../helpers/pki.ts";

let pki: Pki;
beforeAll(() => {
  pki = buildPki();
});

const trusted = TrustedProxies.parse("127.0.0.2, 10.0.0.0/8");
const log = createLogger("silent", process.stderr);

/** A request as Node builds it from the wire: raw header lines, the lazily derived views, a plain TCP socket. */
function request(peer: string, raw: [string, string][]): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, "remoteAddress", { value: peer });
  const headers: Record<string, string> = {};
  const distinct: Record<string, string[]> = {};
  for (const [k, v] of raw) {
    const key = k.toLowerCase();
    headers[key] = headers[key] === undefined ? v : `${headers[key]}, ${v}`;
    (distinct[key] ??= []).push(v);
  }
  return { socket, headers, headersDistinct: distinct, rawHeaders: raw.flat() } as unknown as IncomingMessage;
}

describe("request gate", () => {
  const certificates = new ClientCertificates(createLookup("nginx"));
  const gate = requestGate(trusted, certificates.headers, log);

  it("from a trusted proxy: the certificate header is read, X-Forwarded-For is reduced to the client", () => {
    const req = request("::ffff:127.0.0.2", [["ssl-client-cert", encodeURIComponent(pki.leaf.pem)], ["x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.1.1"], ["x-forwarded-proto", "https"]]);
    gate(req);
    expect(originOf(req)).toMatchObject({ trustedProxy: true, ignoredHeaders: [] });
    expect(req.headers["x-forwarded-for"]).toBe("203.0.113.9");
    expect(req.headers["x-forwarded-proto"]).toBe("https");
    const p = certificates.presented(req);
    expect(p).toMatchObject({ kind: "certificate", source: "nginx" });
    expect(certificates.chain(req)?.[0]?.sha256).toBe(pki.leaf.cert.sha256);
    expect(certificates.x509(req)?.fingerprint256.replace(/:/g, "").toLowerCase()).toBe(pki.leaf.cert.sha256);
  });

  it("from any other peer: the certificate and forwarding headers are removed and remembered; no certificate", () => {
    const req = request("127.0.0.1", [["ssl-client-cert", encodeURIComponent(pki.leaf.pem)], ["x-forwarded-for", "10.0.0.9"], ["x-forwarded-proto", "https"], ["x-forwarded-host", "evil.example"]]);
    gate(req);
    expect(originOf(req)).toMatchObject({ trustedProxy: false, ignoredHeaders: ["ssl-client-cert"] });
    expect(req.headers).toEqual({});
    expect(certificates.presented(req)).toEqual({ kind: "none", source: "tls", ignoredHeaders: ["ssl-client-cert"] });
  });

  it("a trusted proxy's malformed header is an error result, not an exception", () => {
    const req = request("10.2.3.4", [["ssl-client-cert", "%E0%A4%A"]]);
    gate(req);
    expect(certificates.presented(req)).toMatchObject({ kind: "invalid", code: "BAD_HEADER", source: "nginx" });
    expect(certificates.chain(req)).toBeUndefined();
  });

  it("a request that never passed the gate trusts nothing", () => {
    const req = request("127.0.0.2", [["ssl-client-cert", encodeURIComponent(pki.leaf.pem)]]);
    expect(certificates.presented(req)).toMatchObject({ kind: "none", source: "tls" });
  });

  it("with the tls lookup a trusted proxy's forwarding headers count and nothing else is read from headers", () => {
    const tls = new ClientCertificates(undefined);
    const req = request("127.0.0.2", [["ssl-client-cert", encodeURIComponent(pki.leaf.pem)], ["x-forwarded-proto", "https"]]);
    requestGate(trusted, tls.headers, log)(req);
    expect(req.headers["x-forwarded-proto"]).toBe("https");
    expect(tls.presented(req)).toMatchObject({ kind: "none", source: "tls" });
  });
});

describe("X-Forwarded-For", () => {
  it("is read from the right, skipping trusted proxies; a malformed entry ends the walk", () => {
    expect(forwardedClient("198.51.100.1, 10.0.0.1", trusted)).toBe("198.51.100.1");
    expect(forwardedClient("1.1.1.1, 198.51.100.1", trusted)).toBe("198.51.100.1");
    expect(forwardedClient("10.0.0.3, 10.0.0.1", trusted)).toBe("10.0.0.3");
    expect(forwardedClient("unknown, 10.0.0.1", trusted)).toBeUndefined();
    expect(forwardedClient("2001:db8::1", trusted)).toBe("2001:db8::1");
  });
});
