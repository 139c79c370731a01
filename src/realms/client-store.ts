// OAuth clients of a realm, as plain objects; the only module that reads or writes the Client table.
import { DbNull, type Tx } from "../db/database.ts";
import { isCertificateClient, type AccessTokenFormat, type ClientAuthMethod, type ClientRepresentation } from "../admin/representation.ts";

export interface ClientRecord {
  id: string;
  realmId: string;
  clientId: string;
  name: string | null;
  enabled: boolean;
  publicClient: boolean;
  secretHash: string | null;
  tokenEndpointAuthMethod: ClientAuthMethod | "none";
  clientAuthenticatorType: "client-secret" | "client-x509";
  /** Keycloak's client attributes other than access.token.format (certificate authentication, bound tokens). */
  attributes: Record<string, string>;
  /** RFC 7591 jwks of a self_signed_tls_client_auth client. */
  jwks: ClientRepresentation["jwks"] | null;
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

const stringMap = (v: unknown): Record<string, string> =>
  v !== null && typeof v === "object" && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"))
    : {};

function method(r: Row): ClientRecord["tokenEndpointAuthMethod"] {
  const m = r.tokenEndpointAuthMethod;
  if (r.publicClient) return "none";
  if (r.clientAuthenticatorType === "client-x509") return m === "self_signed_tls_client_auth" ? m : "tls_client_auth";
  return m === "client_secret_post" ? m : "client_secret_basic";
}

function toRecord(r: Row): ClientRecord {
  return {
    id: r.id,
    realmId: r.realmId,
    clientId: r.clientId,
    name: r.name,
    enabled: r.enabled,
    publicClient: r.publicClient,
    secretHash: r.secretHash,
    tokenEndpointAuthMethod: method(r),
    clientAuthenticatorType: !r.publicClient && r.clientAuthenticatorType === "client-x509" ? "client-x509" : "client-secret",
    attributes: stringMap(r.attributes),
    jwks: r.jwks !== null && typeof r.jwks === "object" ? (r.jwks as unknown as ClientRecord["jwks"]) : null,
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
  const certificate = isCertificateClient(c);
  const { "access.token.format": _format, ...attributes } = c.attributes ?? {};
  const kept = Object.fromEntries(Object.entries(attributes).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    clientId: c.clientId,
    name: c.name ?? null,
    enabled: c.enabled,
    publicClient: c.publicClient,
    tokenEndpointAuthMethod: c.publicClient ? "none" : (c.tokenEndpointAuthMethod ?? (certificate ? "tls_client_auth" : "client_secret_basic")),
    clientAuthenticatorType: certificate ? "client-x509" : "client-secret",
    attributes: Object.keys(kept).length > 0 ? kept : DbNull,
    jwks: c.jwks ? (JSON.parse(JSON.stringify(c.jwks)) as Record<string, never>) : DbNull,
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
    clientAuthenticatorType: c.clientAuthenticatorType,
    ...(c.tokenEndpointAuthMethod !== "none" && { tokenEndpointAuthMethod: c.tokenEndpointAuthMethod }),
    ...(c.jwks !== null && { jwks: c.jwks }),
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
    attributes: { ...c.attributes, "access.token.format": c.accessTokenFormat },
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

  /** Whether any client of the realm authenticates with a certificate (certificate-clients.ts runs only then). */
  async hasCertificateClients(realmId: string): Promise<boolean> {
    return (await this.#db.client.count({ where: { realmId, clientAuthenticatorType: "client-x509", enabled: true } })) > 0;
  }

  async setSecretHash(id: string, secretHash: string): Promise<void> {
    await this.#db.client.update({ where: { id }, data: { secretHash } });
  }

  async delete(id: string): Promise<void> {
    await this.#db.client.delete({ where: { id } });
  }
}
