// A realm's LDAP federation for the admin API, the CLI and import: read (credential masked), replace (validated as a
// whole; the mask keeps the stored credential), remove, and test (connect, bind, a sample search).
import { SEALED, SecretBoxError, type SecretBox } from "../config/secret-box.ts";
import type { LdapProviders } from "../ldap/providers.ts";
import { RealmStore, type Realm } from "../realms/realm-store.ts";
import { NotFoundError, ValidationError } from "./errors.ts";
import type { AdminDeps } from "./realms.ts";
import { CREDENTIAL_MASK, ldapSchema, parseRepresentation, type LdapRepresentation } from "./representation.ts";

/** What GET and export show: the settings, and the mask where a credential is stored. */
export function ldapRepresentation(realm: Realm): LdapRepresentation | undefined {
  if (!realm.ldap) return undefined;
  return { ...realm.ldap, ...(realm.ldapBindCredential !== null && { bindCredential: CREDENTIAL_MASK }) };
}

/**
 * Splits a validated representation into what is stored in the clear and the sealed credential: undefined keeps the
 * stored one (the mask was sent back), null removes it.
 */
export function sealLdap(secrets: SecretBox | undefined, realm: Pick<Realm, "id" | "ldapBindCredential">, rep: LdapRepresentation, field = "ldap"): { settings: Omit<LdapRepresentation, "bindCredential">; sealed: string | null | undefined } {
  const { bindCredential, ...settings } = rep;
  if (bindCredential === undefined) return { settings, sealed: null };
  if (bindCredential === CREDENTIAL_MASK) {
    if (realm.ldapBindCredential === null) throw new ValidationError([`${field}.bindCredential: "${CREDENTIAL_MASK}" keeps the stored credential, and none is stored: give the credential`]);
    return { settings, sealed: undefined };
  }
  if (!secrets) throw new Error("storing an LDAP credential needs the secret box");
  return { settings, sealed: secrets.seal(bindCredential, SEALED.ldapBindCredential(realm.id)) };
}

async function findRealm(deps: AdminDeps, name: string): Promise<Realm> {
  const realm = await new RealmStore(deps.db).findByName(name);
  if (!realm) throw new NotFoundError(`realm "${name}" not found`);
  return realm;
}

export async function getLdap(deps: AdminDeps, realmName: string): Promise<LdapRepresentation> {
  const rep = ldapRepresentation(await findRealm(deps, realmName));
  if (!rep) throw new NotFoundError(`realm "${realmName}" has no LDAP federation`);
  return rep;
}

export async function putLdap(deps: AdminDeps & { secrets: SecretBox }, realmName: string, input: unknown): Promise<LdapRepresentation> {
  const realm = await findRealm(deps, realmName);
  const rep = parseRepresentation(ldapSchema, input, "ldap");
  const { settings, sealed } = sealLdap(deps.secrets, realm, rep);
  const updated = await new RealmStore(deps.db).setLdap(realm.id, settings, sealed);
  deps.changed(realm.name);
  return ldapRepresentation(updated) as LdapRepresentation;
}

/** Removes the federation. Users linked to LDAP keep their local records (and `sub`), but LDAP no longer answers for them. */
export async function deleteLdap(deps: AdminDeps, realmName: string): Promise<void> {
  const realm = await findRealm(deps, realmName);
  if (!realm.ldap) throw new NotFoundError(`realm "${realmName}" has no LDAP federation`);
  await new RealmStore(deps.db).setLdap(realm.id, null);
  deps.changed(realm.name);
}

export interface LdapStep {
  step: "connect and bind" | "search users";
  ok: boolean;
  ms: number;
  detail: string;
}

export interface LdapTestReport {
  realm: string;
  ok: boolean;
  server?: string;
  steps: LdapStep[];
  /** The users the sample search found (at most 5), as x509-idp reads them. */
  sample: { dn: string; username: string; email?: string; id: string; enabled: boolean }[];
}

/** Connects with the stored settings (a connection of its own), binds, and searches a few users. */
export async function testLdap(deps: AdminDeps & { ldap: LdapProviders }, realmName: string): Promise<LdapTestReport> {
  const realm = await findRealm(deps, realmName);
  if (!realm.ldap) throw new NotFoundError(`realm "${realmName}" has no LDAP federation`);
  try {
    deps.ldap.credential(realm);
  } catch (e) {
    if (e instanceof SecretBoxError) return { realm: realm.name, ok: false, steps: [{ step: "connect and bind", ok: false, ms: 0, detail: e.message }], sample: [] };
    throw e;
  }
  const directory = deps.ldap.directoryFor(realm);
  const report: LdapTestReport = { realm: realm.name, ok: false, steps: [], sample: [] };
  const timed = async <T>(step: LdapStep["step"], op: () => Promise<T>, describe: (r: T) => string): Promise<T | undefined> => {
    const t0 = performance.now();
    try {
      const r = await op();
      report.steps.push({ step, ok: true, ms: Math.round((performance.now() - t0) * 10) / 10, detail: describe(r) });
      return r;
    } catch (e) {
      report.steps.push({ step, ok: false, ms: Math.round((performance.now() - t0) * 10) / 10, detail: (e as Error).message });
      return undefined;
    }
  };
  try {
    const bound = await timed("connect and bind", () => directory.connection.check(), (r) => `${r.server} as ${r.bound}`);
    if (!bound) return report;
    report.server = bound.server;
    const found = await timed("search users", () => directory.sample(5), (r) => `${r.users.length} user${r.users.length === 1 ? "" : "s"} under ${realm.ldap?.usersDn} (${realm.ldap?.searchScope === "sub" ? "subtree" : "one level"}, showing at most 5)`);
    if (!found) return report;
    report.sample = found.users.map((u) => ({ dn: u.dn, username: u.username, ...(u.email !== undefined && { email: u.email }), id: u.id, enabled: u.enabled }));
    report.ok = true;
    return report;
  } finally {
    await directory.connection.close();
  }
}
