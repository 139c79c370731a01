// OAuth clients of a realm, as plain objects; the only module that reads or writes the Client table.
import type { Tx } from "../db/database.ts";
import type { AccessTokenFormat, ClientRepresentation } from "../admin/representation.ts";

export interface ClientRecord {
  id: string;
  realmId: string;
  clientId: string;
  name: string | null;
  enabled: boolean;
  publicClient: boolean;
  secretHash: string | null;
  tokenEndpointAuthMethod: "client_secret_basic" | "client_secret_post" | "none";
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  webOrigins: string[];
  defaultClientScopes: string[];
  optionalClientScopes: string[];
  standardFlowEnabled: boolean;
  directAccessGrantsEnabled: boolean;
  serviceAccountsEnabled: boolean;
  consentRequired: boolean;
  idTokenSignedResponseAlg: "ES256" | "RS256" | null;
  accessTokenFormat: AccessTokenFormat;
  updatedAt: Date;
}

type Row = Awaited<ReturnType<Tx["client"]["findFirstOrThrow"]>>;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

function toRecord(r: Row): ClientRecord {
  const method = r.tokenEndpointAuthMethod;
  return {
    id: r.id,
    realmId: r.realmId,
    clientId: r.clientId,
    name: r.name,
    enabled: r.enabled,
    publicClient: r.publicClient,
    secretHash: r.secretHash,
    tokenEndpointAuthMethod: r.publicClient ? "none" : method === "client_secret_post" ? "client_secret_post" : "client_secret_basic",
    redirectUris: strings(r.redirectUris),
    postLogoutRedirectUris: strings(r.postLogoutRedirectUris),
    webOrigins: strings(r.webOrigins),
    defaultClientScopes: strings(r.defaultClientScopes),
    optionalClientScopes: strings(r.optionalClientScopes),
    standardFlowEnabled: r.standardFlowEnabled,
    directAccessGrantsEnabled: r.directAccessGrantsEnabled,
    serviceAccountsEnabled: r.serviceAccountsEnabled,
    consentRequired: r.consentRequired,
    idTokenSignedResponseAlg: r.idTokenSignedResponseAlg === "RS256" || r.idTokenSignedResponseAlg === "ES256" ? r.idTokenSignedResponseAlg : null,
    accessTokenFormat: r.accessTokenFormat === "opaque" ? "opaque" : "jwt",
    updatedAt: r.updatedAt,
  };
}

function columns(c: ClientRepresentation) {
  return {
    clientId: c.clientId,
    name: c.name ?? null,
    enabled: c.enabled,
    publicClient: c.publicClient,
    tokenEndpointAuthMethod: c.publicClient ? "none" : (c.tokenEndpointAuthMethod ?? "client_secret_basic"),
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    webOrigins: c.webOrigins,
    defaultClientScopes: c.defaultClientScopes,
    optionalClientScopes: c.optionalClientScopes,
    standardFlowEnabled: c.standardFlowEnabled,
    directAccessGrantsEnabled: c.directAccessGrantsEnabled,
    serviceAccountsEnabled: c.serviceAccountsEnabled,
    consentRequired: c.consentRequired,
    idTokenSignedResponseAlg: c.idTokenSignedResponseAlg ?? null,
    accessTokenFormat: c.attributes?.["access.token.format"] ?? "jwt",
  };
}

export function toClientRepresentation(c: ClientRecord): ClientRepresentation & { id: string } {
  return {
    id: c.id,
    clientId: c.clientId,
    ...(c.name !== null && { name: c.name }),
    enabled: c.enabled,
    publicClient: c.publicClient,
    ...(c.secretHash !== null && { secretHash: c.secretHash }),
    clientAuthenticatorType: "client-secret",
    ...(!c.publicClient && { tokenEndpointAuthMethod: c.tokenEndpointAuthMethod === "client_secret_post" ? "client_secret_post" : "client_secret_basic" }),
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    webOrigins: c.webOrigins,
    standardFlowEnabled: c.standardFlowEnabled,
    directAccessGrantsEnabled: c.directAccessGrantsEnabled,
    serviceAccountsEnabled: c.serviceAccountsEnabled,
    consentRequired: c.consentRequired,
    defaultClientScopes: c.defaultClientScopes as ClientRepresentation["defaultClientScopes"],
    optionalClientScopes: c.optionalClientScopes as ClientRepresentation["optionalClientScopes"],
    ...(c.idTokenSignedResponseAlg !== null && { idTokenSignedResponseAlg: c.idTokenSignedResponseAlg }),
    attributes: { "access.token.format": c.accessTokenFormat },
  };
}

export class ClientStore {
  readonly #db: Tx;
  constructor(db: Tx) {
    this.#db = db;
  }

  async findByClientId(realmId: string, clientId: string): Promise<ClientRecord | undefined> {
    const r = await this.#db.client.findUnique({ where: { realmId_clientId: { realmId, clientId } } });
    return r ? toRecord(r) : undefined;
  }

  async findById(realmId: string, id: string): Promise<ClientRecord | undefined> {
    const r = await this.#db.client.findFirst({ where: { realmId, id } });
    return r ? toRecord(r) : undefined;
  }

  async list(realmId: string, filter: { clientId?: string } = {}): Promise<ClientRecord[]> {
    const rows = await this.#db.client.findMany({
      where: { realmId, ...(filter.clientId !== undefined && { clientId: filter.clientId }) },
      orderBy: { clientId: "asc" },
    });
    return rows.map(toRecord);
  }

  /** `secretHash` undefined keeps the stored secret; null removes it. */
  async create(realmId: string, c: ClientRepresentation, secretHash: string | null): Promise<ClientRecord> {
    return toRecord(await this.#db.client.create({ data: { realmId, ...columns(c), secretHash } }));
  }

  async update(id: string, c: ClientRepresentation, secretHash: string | null | undefined): Promise<ClientRecord> {
    const data = { ...columns(c), ...(secretHash !== undefined && { secretHash }) };
    return toRecord(await this.#db.client.update({ where: { id }, data }));
  }

  async setSecretHash(id: string, secretHash: string): Promise<void> {
    await this.#db.client.update({ where: { id }, data: { secretHash } });
  }

  async delete(id: string): Promise<void> {
    await this.#db.client.delete({ where: { id } });
  }
}
