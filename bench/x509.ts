// X.509 core micro-benchmarks, in this process on one core: parsing a typical client certificate and computing every
// identity source from it (a fresh parse each time, so no memoised fact is reused).
import { buildCert, ext } from "../test/helpers/certs.ts";
import { name } from "../test/helpers/der-build.ts";
import { extractIdentity } from "../src/x509/identity/extract.ts";
import { IDENTITY_SOURCES } from "../src/x509/identity/sources.ts";
import { KEYS, parseIdentityOptions } from "../src/x509/options.ts";
import { Pattern } from "../src/x509/regex/pattern.ts";
import { parseCertificate } from "../src/x509/parse.ts";

export interface MicroResult {
  scenario: string;
  perSecond: number;
  microseconds: number;
  iterations: number;
}

/** Keycloak's test-user profile (keycloak-x509.md §7.3): the subject, KU, EKU, CDP, AIA, plus SAN e-mail and UPN. */
export function typicalClientCertificate() {
  return buildCert({
    subject: name([[["C", "printable", "US"]], [["ST", "utf8", "MA"]], [["L", "utf8", "Boston"]], [["O", "utf8", "Red Hat"]], [["OU", "utf8", "Keycloak"]], [["CN", "utf8", "test-user"]], [["EMAILADDRESS", "ia5", "test-user@localhost"]]]),
    issuer: name([[["C", "printable", "US"]], [["ST", "utf8", "MA"]], [["O", "utf8", "Red Hat"]], [["OU", "utf8", "Keycloak"]], [["CN", "utf8", "Keycloak Intermediate CA"]], [["EMAILADDRESS", "ia5", "contact@keycloak.org"]]]),
    serial: 4105,
    extensions: [
      ext.basicConstraints(false),
      ext.keyUsage(["digitalSignature", "nonRepudiation", "keyEncipherment"], true),
      ext.extKeyUsage(["clientAuth", "emailProtection"]),
      ext.san([{ email: "test-user-altmail@localhost" }, { upn: "test_upn_name@localhost" }]),
      ext.crlDistributionPoints(["http://localhost:8889/empty.crl", "http://localhost:8889/intermediate-ca.crl"]),
      ext.authorityInfoAccess({ ocsp: ["http://localhost:8888/oscp"] }),
    ],
  });
}

export function measure(scenario: string, seconds: number, run: () => void): MicroResult {
  for (let i = 0; i < 2000; i++) run(); // warm-up: let V8 optimise
  let iterations = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) run();
    iterations += 200;
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { scenario, perSecond: Math.round(iterations / elapsed), microseconds: Math.round((elapsed / iterations) * 1e7) / 10, iterations };
}

export function x509Benchmarks(seconds: number): MicroResult[] {
  const built = typicalClientCertificate();
  const der = built.der;
  // As read from a file or a socket: a flat string (the test helper builds it by concatenation).
  const pem = Buffer.from(built.pem, "latin1").toString("latin1");
  const all = IDENTITY_SOURCES.map((s) => parseIdentityOptions({ [KEYS.source]: s.id }));
  const keycloakDefault = parseIdentityOptions({});
  let sink = 0;
  const results = [
    measure("parse PEM", seconds, () => { sink += parseCertificate(pem).der.length; }),
    measure("parse PEM + default identity (Subject DN, (.*?)(?:$))", seconds, () => {
      const r = extractIdentity(parseCertificate(pem), keycloakDefault);
      sink += r.ok ? r.identity.length : 0;
    }),
    measure(`parse PEM + all ${all.length} identity sources`, seconds, () => {
      const c = parseCertificate(pem);
      for (const o of all) {
        const r = extractIdentity(c, o);
        sink += r.ok ? r.identity.length : 0;
      }
    }),
    measure(`parse DER + all ${all.length} identity sources`, seconds, () => {
      const c = parseCertificate(der);
      for (const o of all) {
        const r = extractIdentity(c, o);
        sink += r.ok ? r.identity.length : 0;
      }
    }),
  ];
  if (sink === 0) throw new Error("nothing was computed");
  return results;
}

export interface WorstCase {
  scenario: string;
  inputLength: number;
  /** Slowest and median single extraction, milliseconds. */
  maxMs: number;
  medianMs: number;
}

/**
 * The slowest single extractions we know of: patterns that take exponential time in Java's engine, each run on a
 * certificate whose subject DN is as long as that pattern may search (one character more is refused with
 * VALUE_TOO_LONG), and the largest certificate accepted with every source computed.
 */
export function worstCases(runs = 100): WorstCase[] {
  const time = (scenario: string, inputLength: number, f: () => void): WorstCase => {
    for (let i = 0; i < 5; i++) f(); // warm-up: the first runs include compiling the matcher
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      f();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 100) / 100;
    return { scenario, inputLength, maxMs: r(ms[ms.length - 1] as number), medianMs: r(ms[ms.length >> 1] as number) };
  };
  const hostile: [string, (n: number) => string][] = [
    ["(a+)+$", (n) => `${"a".repeat(n - 1)}!`],
    ["(a|a)*b", (n) => "a".repeat(n)],
    ["(?:.*?;){20}(x)", (n) => "a;".repeat(n >> 1)],
    ["(?:(?:a?){6}){6}(z)", (n) => "a".repeat(n)],
    [`(${"[a-z]?".repeat(150)})!`, (n) => "a".repeat(n)],
  ];
  const out: WorstCase[] = [];
  for (const [regex, value] of hostile) {
    const maxLength = new Pattern(regex).maxInputLength;
    const cn = value(maxLength - "CN=\"\"".length); // room for the quotes the legacy form may add
    const { der } = buildCert({ subject: name([[["CN", "utf8", cn]]]) });
    const options = parseIdentityOptions({ [KEYS.source]: "subject-dn-regex", [KEYS.regex]: regex });
    const probe = extractIdentity(parseCertificate(der), options);
    if (!probe.ok && probe.reason !== "NO_MATCH") throw new Error(`${regex}: ${probe.reason}`);
    out.push(time(`subject DN regex ${regex.length > 24 ? `${regex.slice(0, 21)}…` : regex} on a DN of its maximum length`, maxLength, () => {
      extractIdentity(parseCertificate(der), options);
    }));
  }
  const { der: big } = buildCert({ subject: name([[["CN", "utf8", "x".repeat(63_500)]]]), issuer: name([[["CN", "utf8", "Issuing CA"]]]) });
  const all = IDENTITY_SOURCES.map((s) => parseIdentityOptions({ [KEYS.source]: s.id }));
  out.push(time(`largest certificate accepted (${Math.round(big.length / 1024)} KiB), all ${all.length} sources`, big.length, () => {
    const c = parseCertificate(big);
    for (const o of all) extractIdentity(c, o);
  }));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of x509Benchmarks(Number(process.argv[2] ?? 2))) console.log(`${r.scenario}: ${r.perSecond}/s (${r.microseconds} µs)`);
  for (const w of worstCases()) console.log(`${w.scenario} [${w.inputLength}]: max ${w.maxMs} ms, median ${w.medianMs} ms`);
}
