// Robustness fuzzing of the certificate parser and every identity source: random bytes, truncations and mutations
// of real certificates must either parse or fail with CertificateParseError, never throw anything else or hang.
import { CertificateParseError } from "../../src/x509/errors.ts";
import { extractIdentity } from "../../src/x509/identity/extract.ts";
import { IDENTITY_SOURCES } from "../../src/x509/identity/sources.ts";
import { KEYS, parseIdentityOptions, type IdentityOptions } from "../../src/x509/options.ts";
import { parseCertificates } from "../../src/x509/parse.ts";
import { buildCert, ext, newKey } from "./certs.ts";
import { dn, name, utf8 } from "./der-build.ts";

/** Seeds: certificates that exercise every decoder. */
export function seedCorpus(): Uint8Array[] {
  const key = newKey();
  return [
    buildCert({
      subject: name([[["C", "printable", "US"]], [["O", "utf8", "Red Hat"], ["OU", "bmp", "Kéy"]], [["CN", "t61", "Müller"]], [["EMAILADDRESS", "ia5", "a@b.c"]], [["1.2.3.4", "raw", { hex: "020101" }]]]),
      issuer: dn("CN=CA"), key, serial: { content: "00f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1" },
      extensions: [
        ext.san([{ email: "a@x.org" }, { upn: "u@corp" }, { xmpp: "x@chat" }, { dns: "h.example" }, { ip: "10.0.0.1" }, { otherName: { oid: "1.2.3", value: utf8("o") } }, { dirName: dn("CN=dir") }]),
        ext.keyUsage(["digitalSignature", "nonRepudiation", "keyEncipherment"]),
        ext.extKeyUsage(["clientAuth", "emailProtection"]),
        ext.policies(["1.3.76.16.2.1"]),
        ext.crlDistributionPoints(["http://c/1.crl", "ldap://l/x"]),
        ext.authorityInfoAccess({ ocsp: ["http://o"], caIssuers: ["http://i"] }),
        ext.basicConstraints(false),
        ext.subjectKeyId(key.publicKey),
        ext.authorityKeyId(key.publicKey),
      ],
    }).der,
    buildCert({ subject: name([]), extensions: [ext.san([{ email: "only@san" }], true)] }).der,
    buildCert({ subject: dn("CN=rsa"), key: newKey("RS256") }).der,
  ];
}

/** A small deterministic PRNG (mulberry32), so every failure can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(seed: Uint8Array, random: () => number): Uint8Array {
  const r = () => Math.floor(random() * 256);
  const at = () => Math.floor(random() * seed.length);
  switch (Math.floor(random() * 7)) {
    case 0: return seed.subarray(0, at()); // truncated
    case 1: { const b = seed.slice(); for (let k = 0, n = 1 + Math.floor(random() * 4); k < n; k++) b[at()] = r(); return b; } // bytes changed
    case 2: { const b = seed.slice(); const i = at(); b[i] = (b[i] as number) ^ (1 << Math.floor(random() * 8)); return b; } // one bit flipped
    case 3: { const i = at(); return Uint8Array.from([...seed.subarray(0, i), r(), ...seed.subarray(i)]); } // byte inserted
    case 4: { const i = at(); return Uint8Array.from([...seed.subarray(0, i), ...seed.subarray(i + 1)]); } // byte deleted
    case 5: { const b = seed.slice(); const i = at(); b[i] = random() < 0.5 ? 0x80 | Math.floor(random() * 5) : 0xff; return b; } // odd length octets
    default: return Uint8Array.from({ length: Math.floor(random() * 300) }, r); // random bytes
  }
}

const OPTIONS: IdentityOptions[] = IDENTITY_SOURCES.flatMap((s) => [
  parseIdentityOptions({ [KEYS.source]: s.id }),
  parseIdentityOptions({ [KEYS.source]: s.id, [KEYS.canonicalDn]: "true", [KEYS.serialHex]: "true", [KEYS.regex]: "CN=(.*?)(?:,|$)" }),
]);

export interface FuzzStats {
  inputs: number;
  parsed: number;
  slowestMs: number;
}

/** Runs one input through the parser, every fact and every identity source. Throws on anything unexpected. */
export function exercise(input: Uint8Array): boolean {
  let certs;
  try {
    certs = parseCertificates(input);
  } catch (e) {
    if (e instanceof CertificateParseError) return false;
    throw e;
  }
  for (const c of certs) {
    for (const read of [() => c.subjectDn, () => c.issuerDn, () => c.serialHex, () => c.publicKey, () => c.keyUsage, () => c.extendedKeyUsage,
      () => c.policies, () => c.crlUrls, () => c.ocspUrls, () => c.basicConstraints, () => c.subjectKeyId, () => c.authorityKeyId]) {
      try {
        read();
      } catch (e) {
        if (!(e instanceof CertificateParseError)) throw e;
      }
    }
    for (const o of OPTIONS) extractIdentity(c, o);
  }
  return true;
}

export function fuzz(count: number, seed: number, corpus = seedCorpus()): FuzzStats {
  const random = rng(seed);
  const stats: FuzzStats = { inputs: 0, parsed: 0, slowestMs: 0 };
  for (let i = 0; i < count; i++) {
    const base = corpus[Math.floor(random() * corpus.length)] as Uint8Array;
    const input = mutate(base, random);
    const t0 = performance.now();
    try {
      if (exercise(input)) stats.parsed++;
    } catch (e) {
      throw new Error(`input #${i} (seed ${seed}) threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${Buffer.from(input).toString("hex")}`, { cause: e });
    }
    stats.slowestMs = Math.max(stats.slowestMs, performance.now() - t0);
    stats.inputs++;
  }
  return stats;
}
