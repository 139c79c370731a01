// What LDAP federation adds to a certificate login: the identity → user step (the only one that talks to LDAP) for
// a local user and for an LDAP user (a real slapd on loopback with 1,000 users, the service account's connection
// reused, the linked record already created), one login at a time. "Added" is the difference of the medians.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { importRealm } from "../src/admin/import.ts";
import { SecretBox } from "../src/config/secret-box.ts";
import { openDatabase } from "../src/db/database.ts";
import { LdapProviders } from "../src/ldap/providers.ts";
import { createLogger } from "../src/log.ts";
import { RealmStore } from "../src/realms/realm-store.ts";
import { RealmUsers } from "../src/users/federation.ts";
import { realmUserDirectory } from "../src/users/x509-directory.ts";
import { mapIdentityToUser } from "../src/x509/identity/mapping.ts";
import { KEYS, parseIdentityOptions } from "../src/x509/options.ts";
import { tempDir } from "../test/helpers/db.ts";
import { buildPki } from "../test/helpers/pki.ts";
import { sbin } from "../test/helpers/ports.ts";
import { startSlapd } from "../test/helpers/revocation-servers.ts";

export interface LatencyResult {
  scenario: string;
  logins: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LdapBench {
  rows: LatencyResult[];
  /** p50 of the LDAP user's lookup minus the local user's, per identity source. */
  added: { scenario: string; ms: number }[];
}

const slapdInstalled = () => sbin("slapd") !== "slapd";

async function latency(scenario: string, seconds: number, op: () => Promise<unknown>): Promise<LatencyResult> {
  for (let i = 0; i < 200; i++) await op();
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await op();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round((times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0) * 1000) / 1000;
  return { scenario, logins: times.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

export async function ldapBenchmarks(seconds: number): Promise<LdapBench | undefined> {
  if (!slapdInstalled()) return undefined;
  const pki = buildPki();
  const alice = pki.issue({ cn: "alice", serial: 1001 });
  const slapd = await startSlapd();
  const dir = tempDir();
  const db = await openDatabase(`file:${path.join(dir, "idp.db")}`);
  const providers = new LdapProviders(new SecretBox("bench-secret-key-bench-secret-key"), createLogger("silent"), { record: () => {} });
  try {
    const hash = execFileSync(sbin("slappasswd"), ["-s", "pw"], { encoding: "utf8" }).trim();
    const people = "ou=people,dc=example,dc=org";
    const entries = [`dn: ${people}\nobjectClass: organizationalUnit\nou: people`];
    for (let i = 0; i < 1000; i++) entries.push(`dn: uid=user${i},${people}\nobjectClass: inetOrgPerson\nuid: user${i}\ncn: user${i}\nsn: User\nmail: user${i}@example.org\nuserPassword: ${hash}`);
    entries.push(`dn: uid=alice,${people}\nobjectClass: inetOrgPerson\nuid: alice\ncn: alice\nsn: Liddell\ngivenName: Alice\nmail: alice@example.org\nuserCertificate;binary:: ${Buffer.from(alice.der).toString("base64")}`);
    slapd.add(`${entries.join("\n\n")}\n`);

    await importRealm(db.prisma, { realm: "bench", users: [{ username: "local-alice", email: "local-alice@example.org", attributes: { usercertificate: [Buffer.from(alice.der).toString("base64")] } }] });
    const store = new RealmStore(db.prisma);
    const plain = (await store.findByName("bench"))!;
    const box = providers.secrets;
    const realm = await store.setLdap(plain.id, {
      enabled: true, connectionUrls: [slapd.url], startTls: false, bindDn: slapd.admin.dn, usersDn: people, searchScope: "one",
      userObjectClasses: ["inetOrgPerson"], usernameAttribute: "uid", uuidAttribute: "entryUUID", emailAttribute: "mail",
      firstNameAttribute: "givenName", lastNameAttribute: "sn", disabledValues: ["TRUE"], precedence: "local",
      connectTimeoutMs: 5000, timeoutMs: 5000,
      attributeMappers: [{ name: "usercertificate", ldapAttribute: "userCertificate;binary", certificate: "der" }],
    }, box.seal(slapd.admin.password, plain.id));
    const local = realmUserDirectory(new RealmUsers(db.prisma, plain));
    const federated = realmUserDirectory(new RealmUsers(db.prisma, realm, { directory: providers.forRealm(realm)!, providers }));

    const byName = parseIdentityOptions({});
    const byCertificate = parseIdentityOptions({ [KEYS.mapper]: "Custom Attribute Mapper", [KEYS.attributeNames]: "usercertificate" });
    const identity = Buffer.from(alice.der).toString("base64");
    const found = async (p: ReturnType<typeof mapIdentityToUser>) => {
      const r = await p;
      if (r.kind !== "found") throw new Error(`bench lookup: ${r.kind}`);
    };
    const rows = [
      await latency("Username or Email (Subject CN), local user", seconds, () => found(mapIdentityToUser("local-alice", byName, local))),
      await latency("Username or Email (Subject CN), LDAP user (1,000 in the directory)", seconds, () => found(mapIdentityToUser("alice", byName, federated))),
      await latency("Full certificate, local user attribute", seconds, () => found(mapIdentityToUser(identity, byCertificate, local))),
      await latency("Full certificate, LDAP userCertificate;binary (exact DER, read live)", seconds, () => found(mapIdentityToUser(identity, byCertificate, federated))),
    ];
    const [a, b, c, d] = rows as [LatencyResult, LatencyResult, LatencyResult, LatencyResult];
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return {
      rows,
      added: [
        { scenario: "Username or Email", ms: round(b.p50Ms - a.p50Ms) },
        { scenario: "Full certificate", ms: round(d.p50Ms - c.p50Ms) },
      ],
    };
  } finally {
    await providers.close();
    await db.close();
    await slapd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
