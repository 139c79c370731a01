// Client use cases for the admin API and the CLI. Secrets are stored hashed: a secret the server generates is
// returned once (on create, or by regenerateSecret) and can never be read back.
import { ClientStore, toClientRepresentation, type ClientRecord } from "../realms/client-store.ts";
import { generateSecret, hashPassword } from "../users/passwords.ts";
import { ConflictError, NotFoundError, ValidationError } from "./errors.ts";
import { realmId, type AdminDeps } from "./realms.ts";
import { clientSchema, isCertificateClient, isObject, parseRepresentation, type ClientRepresentation } from "./representation.ts";

export type ClientView = Omit<ClientRepresentation, "secret" | "secretHash"> & { id: string; secretSet: boolean };

export function toClientView(c: ClientRecord): ClientView {
  const { secretHash: _h, ...rep } = toClientRepresentation(c);
  return { ...rep, secretSet: !c.publicClient && c.clientAuthenticatorType === "client-secret" && c.secretHash !== null };
}

async function find(deps: AdminDeps, realm: string, id: string): Promise<ClientRecord> {
  const rid = await realmId(deps, realm);
  const c = await new ClientStore(deps.db).findById(rid, id);
  if (!c) throw new NotFoundError(`client ${id} not found in realm "${realm}"`);
  return c;
}

export async function listClients(deps: AdminDeps, realm: string, filter: { clientId?: string }): Promise<ClientView[]> {
  return (await new ClientStore(deps.db).list(await realmId(deps, realm), filter)).map(toClientView);
}

export async function getClient(deps: AdminDeps, realm: string, id: string): Promise<ClientView> {
  return toClientView(await find(deps, realm, id));
}

export async function createClient(deps: AdminDeps, realm: string, input: unknown): Promise<{ id: string; clientId: string; secret?: string }> {
  const rep = parseRepresentation(clientSchema, input);
  const rid = await realmId(deps, realm);
  const store = new ClientStore(deps.db);
  if (await store.findByClientId(rid, rep.clientId)) throw new ConflictError(`Client ${rep.clientId} already exists`);
  // A client that authenticates with a certificate has no secret (the schema refuses one).
  const noSecret = rep.publicClient || isCertificateClient(rep);
  const generated = !noSecret && !rep.secret && !rep.secretHash ? generateSecret() : undefined;
  const plain = rep.secret ?? generated;
  const hash = noSecret ? null : plain !== undefined ? await hashPassword(plain) : (rep.secretHash ?? null);
  const created = await store.create(rid, rep, hash);
  deps.changed(realm);
  return { id: created.id, clientId: created.clientId, ...(generated && { secret: generated }) };
}

export async function updateClient(deps: AdminDeps, realm: string, id: string, input: unknown): Promise<ClientView> {
  if (!isObject(input)) throw new ValidationError(["body: expected a JSON object"]);
  const current = await find(deps, realm, id);
  const { secretHash: _h, id: _cid, ...currentRep } = toClientRepresentation(current);
  const { id: _id, secretSet: _s, ...fields } = input;
  const next = parseRepresentation(clientSchema, { ...currentRep, ...fields });
  const store = new ClientStore(deps.db);
  if (next.clientId !== current.clientId && (await store.findByClientId(current.realmId, next.clientId))) {
    throw new ConflictError(`Client ${next.clientId} already exists`);
  }
  let hash: string | null | undefined;
  if (next.publicClient || isCertificateClient(next)) hash = null;
  else if (next.secret !== undefined) hash = await hashPassword(next.secret);
  else if (next.secretHash !== undefined) hash = next.secretHash;
  // A client turned confidential gets a secret nobody knows: regenerate it to obtain a usable one.
  else if (current.secretHash === null) hash = await hashPassword(generateSecret());
  const updated = await store.update(current.id, next, hash);
  deps.changed(realm);
  return toClientView(updated);
}

export async function regenerateSecret(deps: AdminDeps, realm: string, id: string): Promise<{ type: "secret"; value: string }> {
  const current = await find(deps, realm, id);
  if (current.publicClient) throw new ValidationError(["publicClient: a public client has no secret"]);
  if (current.clientAuthenticatorType === "client-x509") throw new ValidationError(["clientAuthenticatorType: a client-x509 client authenticates with its certificate and has no secret"]);
  const value = generateSecret();
  await new ClientStore(deps.db).setSecretHash(current.id, await hashPassword(value));
  deps.changed(realm);
  return { type: "secret", value };
}

export async function deleteClient(deps: AdminDeps, realm: string, id: string): Promise<void> {
  const current = await find(deps, realm, id);
  await new ClientStore(deps.db).delete(current.id);
  deps.changed(realm);
}
