// Realm import: validate the whole file first (messages name the bad field), hash secrets outside the transaction,
// then apply everything in one transaction: all or nothing. Idempotent: realms, clients and users are matched by
// name (realm, clientId, username) and updated; objects not in the file are left alone.
import type { Prisma, Tx } from "../db/database.ts";
import { ClientStore } from "../realms/client-store.ts";
import { RealmStore, type Realm } from "../realms/realm-store.ts";
import { UserStore } from "../users/user-store.ts";
import type { SecretBox } from "../config/secret-box.ts";
import { sealLdap } from "./ldap.ts";
import { generateSecret, hashPassword } from "../users/passwords.ts";
import { isCertificateClient, parseRepresentation, realmSchema, ValidationError, type ClientRepresentation, type RealmRepresentation, type UserRepresentation } from "./representation.ts";

export interface ImportSummary {
  realm: string;
  created: boolean;
  clients: { created: string[]; updated: string[] };
  users: { created: number; updated: number };
  /** Secrets generated for new confidential clients that came without one: shown once, stored hashed. */
  generatedSecrets: Record<string, string>;
}

/** Secret hash to store: from the representation, or undefined to keep what is stored. */
async function clientSecretHash(c: ClientRepresentation): Promise<string | null | undefined> {
  if (c.publicClient || isCertificateClient(c)) return null;
  if (c.secret !== undefined) return hashPassword(c.secret);
  return c.secretHash;
}

async function userPasswordHash(u: UserRepresentation): Promise<string | undefined> {
  const cred = u.credentials?.[0];
  if (!cred) return undefined;
  return cred.hash ?? (cred.value !== undefined ? hashPassword(cred.value) : undefined);
}

/** Fails (naming the field) when an e-mail in the file belongs to a user the file does not describe. */
async function checkEmailOwners(tx: Tx, realmId: string, users: UserRepresentation[]): Promise<void> {
  for (const [i, u] of users.entries()) {
    if (!u.email) continue;
    const owner = await tx.user.findFirst({ where: { realmId, email: u.email, NOT: { username: u.username } }, select: { username: true } });
    if (owner) throw new ValidationError([`users[${i}].email: "${u.email}" is already used by user "${owner.username}"`]);
  }
}

export interface ImportOptions {
  /** "upsert" (default) updates an existing realm; "create" refuses one (POST /admin/realms). */
  mode?: "upsert" | "create";
  /** Seals an LDAP bind credential in the file (needed when the file brings one). */
  secrets?: SecretBox;
}

export class RealmExistsError extends Error {}

export async function importRealm(db: Prisma, input: unknown, options: ImportOptions = {}): Promise<ImportSummary> {
  const rep: RealmRepresentation = parseRepresentation(realmSchema, input);
  // argon2 is deliberately slow: hash on the thread pool before the transaction opens.
  const clientHashes = await Promise.all(rep.clients.map(clientSecretHash));
  const userHashes = await Promise.all(rep.users.map(userPasswordHash));
  const generatedSecrets: Record<string, string> = {};

  const summary = await db.$transaction(async (tx) => {
    const realms = new RealmStore(tx);
    const clients = new ClientStore(tx);
    const users = new UserStore(tx);
    const { clients: _c, users: _u, x509, ldap, ...settings } = rep;
    const existing = await realms.findByName(rep.realm);
    if (existing && options.mode === "create") throw new RealmExistsError(`realm "${rep.realm}" already exists`);
    let realm: Realm = existing ? await realms.update(existing.id, settings) : await realms.create(settings);
    if (x509) realm = await realms.setX509(realm.id, x509);
    if (ldap === null) realm = await realms.setLdap(realm.id, null);
    else if (ldap) {
      const sealed = sealLdap(options.secrets, realm, ldap);
      realm = await realms.setLdap(realm.id, sealed.settings, sealed.sealed);
    }

    const out: ImportSummary = { realm: realm.name, created: !existing, clients: { created: [], updated: [] }, users: { created: 0, updated: 0 }, generatedSecrets };
    for (const [i, c] of rep.clients.entries()) {
      const hash = clientHashes[i];
      const current = await clients.findByClientId(realm.id, c.clientId);
      if (current) {
        // A confidential client keeps its stored secret unless the file brings one.
        const keep = hash === undefined && !current.publicClient && current.secretHash !== null;
        await clients.update(current.id, c, keep ? undefined : hash === undefined ? await newSecret(c.clientId) : hash);
        out.clients.updated.push(c.clientId);
      } else {
        await clients.create(realm.id, c, hash === undefined ? await newSecret(c.clientId) : hash);
        out.clients.created.push(c.clientId);
      }
    }
    await checkEmailOwners(tx, realm.id, rep.users);
    for (const [i, u] of rep.users.entries()) {
      const current = await users.findByUsername(realm.id, u.username);
      if (current) {
        await users.update(realm.id, current.id, u, userHashes[i]);
        out.users.updated++;
      } else {
        await users.create(realm.id, u, userHashes[i] ?? null);
        out.users.created++;
      }
    }
    return out;
  }, { timeout: 300_000, maxWait: 30_000 });
  return summary;

  async function newSecret(clientId: string): Promise<string> {
    const secret = generateSecret();
    generatedSecrets[clientId] = secret;
    return hashPassword(secret);
  }
}
