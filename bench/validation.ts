// Certificate validation micro-benchmarks, in this process on one core:
//   - validating a client certificate + intermediate against a root, with the CRL and the OCSP answer cached, both
//     for the same certificate again and again (signatures already verified) and for a new certificate each time
//     (its signature verified afresh), with P-256 and RSA-2048 keys;
//   - a CRL of 1,000,000 revoked serials: parse time, lookup time, memory;
//   - a cached OCSP answer: the cost of one check.
// The OCSP answer comes from a real `openssl ocsp` responder started here.
import { hash } from "node:crypto";
import { createRevocationChecker } from "../src/net/revocation.ts";
import { Certificate } from "../src/x509/certificate.ts";
import { parseCrl } from "../src/x509/revocation/crl.ts";
import { TrustStore } from "../src/x509/trust/trust-store.ts";
import { parseValidationOptions, VALIDATION_KEYS as K } from "../src/x509/validation/options.ts";
import { validateChain } from "../src/x509/validation/validate.ts";
import { tempDir } from "../test/helpers/db.ts";
import { buildCrl, buildPki, intermediateCrl, intermediateName, type Pki } from "../test/helpers/pki.ts";
import { startHttpServer, startOcspResponder } from "../test/helpers/revocation-servers.ts";
import type { MicroResult } from "./x509.ts";

async function measureAsync(scenario: string, seconds: number, run: (i: number) => Promise<unknown>): Promise<MicroResult> {
  for (let i = 0; i < 500; i++) await run(i);
  let iterations = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await run(iterations + i);
    iterations += 100;
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { scenario, perSecond: Math.round(iterations / elapsed), microseconds: Math.round((elapsed / iterations) * 1e7) / 10, iterations };
}

async function chainScenario(pki: Pki, label: string, seconds: number, fresh: number): Promise<MicroResult[]> {
  const web = await startHttpServer();
  // openssl answers "unknown" (never cached) for serials missing from its index: it knows every serial used here.
  const serials = Array.from({ length: fresh }, (_, i) => 100_000 + i);
  const responder = await startOcspResponder({
    ca: pki.intermediate, signer: pki.intermediate, nextUpdateMinutes: 600,
    entries: [4105, ...serials].map((serial) => ({ serial, status: "V" as const })),
  });
  try {
    web.routes.set("/i.crl", intermediateCrl(pki));
    const trust = new TrustStore([pki.root.cert]);
    const revocation = createRevocationChecker({ crlDir: tempDir("x509idp-bench-crl-"), fetchTimeoutMs: 5000, crlMaxBytes: 1 << 30, crlMinReloadSeconds: 10, crlMaxAgeSeconds: undefined, failureCacheSeconds: 30 });
    const options = parseValidationOptions({
      [K.keyUsage]: "digitalSignature", [K.extendedKeyUsage]: "clientAuth",
      [K.crlEnabled]: "true", [K.crlPaths]: `${web.base}/i.crl`,
      [K.ocspEnabled]: "true", [K.ocspResponderUri]: responder.url,
    });
    const interDer = pki.intermediate.der;
    // As at a login: the certificates arrive as DER and are parsed each time.
    const run = async (leafDer: Uint8Array) => {
      const r = await validateChain([new Certificate(leafDer), new Certificate(interDer)], options, { trust, revocation, now: Date.now() });
      if (!r.ok) throw new Error(`${label}: ${r.code} ${r.detail}`);
    };
    const out = [await measureAsync(`validate ${label} client + intermediate, CRL and OCSP cached, the same certificate again (signatures verified before)`, seconds, () => run(pki.leaf.der))];
    // New certificates (one key, distinct serials): each one's signature is verified once, in the measured pass.
    const key = pki.leaf.key;
    const leaves = serials.map((serial) => pki.issue({ cn: `user${serial}`, serial, key }).der);
    const pending: Promise<unknown>[] = [];
    for (const der of leaves) pending.push(revocation.check([new Certificate(der), pki.intermediate.cert, pki.root.cert], options, [])); // fills the OCSP cache only
    await Promise.all(pending);
    const t0 = performance.now();
    for (const der of leaves) await run(der);
    const elapsed = (performance.now() - t0) / 1000;
    out.push({
      scenario: `validate ${label} client + intermediate, CRL and OCSP cached, a new certificate each time (its signature verified)`,
      perSecond: Math.round(leaves.length / elapsed), microseconds: Math.round((elapsed / leaves.length) * 1e7) / 10, iterations: leaves.length,
    });
    return out;
  } finally {
    await responder.stop();
    await web.close();
  }
}

export interface CrlScale {
  entries: number;
  derBytes: number;
  parseSeconds: number;
  lookupMicroseconds: number;
  memoryMiB: number;
}

/** A CRL with `entries` revoked serials (random 16-byte serials, as CAs issue them). */
export function crlScale(entries = 1_000_000): CrlScale {
  const pki = buildPki();
  const revoked: { serial: bigint }[] = [];
  let x = 0x1234567n;
  for (let i = 0; i < entries; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 127n) - 1n);
    revoked.push({ serial: x | (1n << 120n) });
  }
  const der = buildCrl({ issuer: intermediateName(), signer: pki.intermediate.key, revoked });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const crl = parseCrl(der);
  const parseSeconds = (performance.now() - t0) / 1000;
  gc?.();
  const after = process.memoryUsage();
  // Lookups of serials that are on the list and that are not, as validation does them (from INTEGER content).
  const probes = Array.from({ length: 10_000 }, (_, i) => {
    const s = i % 2 === 0 ? (revoked[i * 97] as { serial: bigint }).serial : BigInt(`0x${hash("sha256", String(i), "hex").slice(0, 32)}`);
    const hex = s.toString(16).padStart(32, "0");
    return Uint8Array.from(Buffer.from((Number.parseInt(hex[0] as string, 16) >= 8 ? "00" : "") + hex, "hex"));
  });
  let hits = 0;
  for (const p of probes) hits += crl.isRevoked(p) ? 1 : 0; // warm-up
  const t1 = performance.now();
  const rounds = 50;
  for (let r = 0; r < rounds; r++) for (const p of probes) hits += crl.isRevoked(p) ? 1 : 0;
  const lookupMicroseconds = ((performance.now() - t1) * 1000) / (rounds * probes.length);
  if (hits < (rounds + 1) * probes.length * 0.4) throw new Error("the probes did not find the listed serials");
  return {
    entries: crl.revokedCount,
    derBytes: der.length,
    parseSeconds: Math.round(parseSeconds * 100) / 100,
    lookupMicroseconds: Math.round(lookupMicroseconds * 1000) / 1000,
    memoryMiB: Math.round((after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1048576),
  };
}

/** The cost of one OCSP check answered from the cache. */
export async function cachedOcsp(seconds: number): Promise<MicroResult> {
  const pki = buildPki();
  const responder = await startOcspResponder({ ca: pki.intermediate, signer: pki.intermediate, entries: [{ serial: 4105, status: "V" }], nextUpdateMinutes: 600 });
  try {
    const revocation = createRevocationChecker({ crlDir: tempDir("x509idp-bench-crl-"), fetchTimeoutMs: 5000, crlMaxBytes: 1 << 20, crlMinReloadSeconds: 10, crlMaxAgeSeconds: undefined, failureCacheSeconds: 30 });
    const options = parseValidationOptions({ [K.ocspEnabled]: "true", [K.ocspResponderUri]: responder.url });
    const path = [pki.leaf.cert, pki.intermediate.cert, pki.root.cert];
    const warnings: string[] = [];
    await revocation.check(path, options, warnings);
    const before = revocation.ocspCache.requests;
    const r = await measureAsync("OCSP check answered from the cache", seconds, () => revocation.check(path, options, warnings));
    if (revocation.ocspCache.requests !== before) throw new Error("the OCSP cache was not used");
    return r;
  } finally {
    await responder.stop();
  }
}

export async function validationBenchmarks(seconds: number): Promise<{ micro: MicroResult[]; crl: CrlScale }> {
  const micro = [
    ...(await chainScenario(buildPki({ alg: "ES256" }), "P-256", seconds, 4000)),
    ...(await chainScenario(buildPki({ alg: "RS256" }), "RSA-2048", seconds, 2000)),
    await cachedOcsp(seconds),
  ];
  return { micro, crl: crlScale() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { micro, crl } = await validationBenchmarks(Number(process.argv[2] ?? 2));
  for (const r of micro) console.log(`${r.scenario}: ${r.perSecond}/s (${r.microseconds} µs)`);
  console.log(crl);
}
