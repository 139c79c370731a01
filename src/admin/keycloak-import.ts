// `x509-idp realm import --keycloak <export.json>`: a Keycloak realm export (kc.sh export, or the admin console's
// partial export) turned into x509-idp's realm representation, then imported as any realm file (validated whole,
// applied in one transaction). What does not carry over is reported, never silently dropped:
//   - realm settings with an x509-idp equivalent; clients (not Keycloak's own, not bearer-only or SAML) with their
//     secrets when the export holds them; users with attributes, realm roles and password hashes (argon2, PBKDF2);
//   - the X.509 authenticators bound in the realm's browser and direct-grant flows, with their configurations;
//   - the first LDAP user storage provider, with its attribute and certificate mappers (x509-idp's `ldap`);
//   - trust anchors: Keycloak keeps them in its truststore, outside the export; give them with --trust.
import { ValidationError } from "./errors.ts";
import { isObject, SCOPES } from "./representation.ts";

export interface KeycloakConversion {
  realm: Record<string, unknown>;
  notes: string[];
}

const BUILT_IN_CLIENTS = new Set(["account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console"]);
const IGNORED_ROLES = /^(default-roles-.*|offline_access|uma_authorization)$/;
const REALM_FIELDS = [
  "displayName", "enabled", "loginWithEmailAllowed", "accessTokenLifespan", "accessCodeLifespan", "accessCodeLifespanLogin",
  "ssoSessionIdleTimeout", "ssoSessionMaxLifespan", "bruteForceProtected", "failureFactor", "waitIncrementSeconds",
  "maxFailureWaitSeconds", "maxDeltaTimeSeconds", "permanentLockout", "maxTemporaryLockouts",
] as const;
/** Keycloak's provider ids of the X.509 authenticators. */
const BROWSER_X509 = "auth-x509-client-username-form";
const DIRECT_GRANT_X509 = "direct-grant-auth-x509-username";

type Json = Record<string, unknown>;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const b64 = (s: string) => s.replace(/=+$/, "");

/** A Keycloak password credential as a hash x509-idp verifies, or a note saying why not. */
function passwordHash(cred: Json): { hash: string } | { note: string } {
  let secret: Json;
  let data: Json;
  try {
    secret = JSON.parse(str(cred.secretData) ?? "{}") as Json;
    data = JSON.parse(str(cred.credentialData) ?? "{}") as Json;
  } catch {
    return { note: "unreadable credential data" };
  }
  const value = str(secret.value);
  const salt = str(secret.salt);
  const algorithm = str(data.algorithm) ?? "";
  const iterations = Number(data.hashIterations);
  if (!value || salt === undefined) return { note: "no hash value" };
  if (algorithm === "argon2") {
    const p = (isObject(data.additionalParameters) ? data.additionalParameters : {}) as Record<string, unknown>;
    const first = (k: string, d: string) => str(arr(p[k])[0]) ?? d;
    const type = first("type", "id");
    const version = first("version", "1.3") === "1.0" ? 16 : 19;
    if (!["id", "i", "d"].includes(type)) return { note: `argon2 type ${type}` };
    return { hash: `$argon2${type}$v=${version}$m=${first("memory", "7168")},t=${Number.isFinite(iterations) ? iterations : 5},p=${first("parallelism", "1")}$${b64(salt)}$${b64(value)}` };
  }
  const digest = { pbkdf2: "sha1", "pbkdf2-sha256": "sha256", "pbkdf2-sha512": "sha512" }[algorithm];
  if (digest && Number.isInteger(iterations) && iterations > 0) return { hash: `$pbkdf2-${digest}$i=${iterations}$${b64(salt)}$${b64(value)}` };
  return { note: `hash algorithm "${algorithm}" is not supported` };
}

/** The executions of a flow and of its sub-flows, depth first. */
function executions(flows: Json[], alias: string, seen = new Set<string>()): Json[] {
  if (seen.has(alias)) return [];
  seen.add(alias);
  const flow = flows.find((f) => f.alias === alias);
  return arr(flow?.authenticationExecutions).filter(isObject).flatMap((e) => (str(e.flowAlias) ? [e, ...executions(flows, str(e.flowAlias) as string, seen)] : [e]));
}

function x509Flow(k: Json, flowAlias: string, provider: string, notes: string[], label: string): Json {
  const flows = arr(k.authenticationFlows).filter(isObject);
  const configs = arr(k.authenticatorConfig).filter(isObject);
  const step = executions(flows, flowAlias).find((e) => e.authenticator === provider && e.requirement !== "DISABLED");
  if (!step) return { enabled: false };
  const alias = str(step.authenticatorConfig);
  const config = alias ? configs.find((c) => c.alias === alias)?.config : undefined;
  if (alias && !isObject(config)) notes.push(`${label}: the X.509 step names the configuration "${alias}", which the export does not contain`);
  const entries = isObject(config) ? Object.entries(config).filter(([, v]) => typeof v === "string") : [];
  return { enabled: true, ...(isObject(config) && { config: Object.fromEntries(entries) }) };
}

/** Keycloak client attributes x509-idp reads (certificate authentication and certificate-bound tokens). */
const KEYCLOAK_CLIENT_ATTRIBUTES = ["x509.subjectdn", "x509.allow.regex.pattern.comparison", "x509.casubjectdn", "tls.client.certificate.bound.access.tokens"] as const;

function convertClient(c: Json, notes: string[]): Json | undefined {
  const clientId = str(c.clientId) ?? "";
  if (BUILT_IN_CLIENTS.has(clientId)) return undefined;
  if (c.protocol !== undefined && c.protocol !== "openid-connect") {
    notes.push(`client "${clientId}": ${String(c.protocol)} clients are not supported, skipped`);
    return undefined;
  }
  if (c.bearerOnly === true) {
    notes.push(`client "${clientId}": bearer-only clients have nothing to do here, skipped`);
    return undefined;
  }
  const attributes = (isObject(c.attributes) ? c.attributes : {}) as Record<string, unknown>;
  const scopes = (v: unknown) => arr(v).filter((s): s is (typeof SCOPES)[number] => (SCOPES as readonly unknown[]).includes(s));
  const publicClient = c.publicClient === true;
  // Keycloak's X509 client authenticator: the certificate's subject (and CA) attributes move over, no secret.
  const x509 = !publicClient && c.clientAuthenticatorType === "client-x509";
  const secret = x509 ? undefined : str(c.secret);
  if (!publicClient && !x509 && (!secret || /^\*+$/.test(secret))) notes.push(`client "${clientId}": the export holds no secret, a new one is generated`);
  const carried = Object.fromEntries(KEYCLOAK_CLIENT_ATTRIBUTES.flatMap((k) => (typeof attributes[k] === "string" && attributes[k] !== "" ? [[k, attributes[k]]] : [])));
  if (attributes["access.token.format"] === "opaque") carried["access.token.format"] = "opaque";
  return {
    clientId,
    ...(str(c.name) && !str(c.name)?.startsWith("${") && { name: str(c.name) }),
    enabled: c.enabled !== false,
    publicClient,
    ...(!publicClient && secret && !/^\*+$/.test(secret) && { secret }),
    redirectUris: arr(c.redirectUris).filter((u): u is string => typeof u === "string"),
    postLogoutRedirectUris: (str(attributes["post.logout.redirect.uris"]) ?? "").split("##").filter((u) => u !== "" && u !== "+"),
    webOrigins: arr(c.webOrigins).filter((u): u is string => typeof u === "string"),
    standardFlowEnabled: c.standardFlowEnabled !== false,
    directAccessGrantsEnabled: c.directAccessGrantsEnabled === true,
    serviceAccountsEnabled: c.serviceAccountsEnabled === true && !publicClient,
    consentRequired: c.consentRequired === true,
    defaultClientScopes: scopes(c.defaultClientScopes).filter((s) => s !== "openid"),
    optionalClientScopes: scopes(c.optionalClientScopes).filter((s) => s !== "openid"),
    ...(x509 && { clientAuthenticatorType: "client-x509", tokenEndpointAuthMethod: "tls_client_auth" }),
    ...(Object.keys(carried).length > 0 && { attributes: carried }),
  };
}

function convertUser(u: Json, notes: string[]): Json | undefined {
  const username = str(u.username) ?? "";
  if (str(u.serviceAccountClientId)) return undefined;
  if (str(u.federationLink)) notes.push(`user "${username}": linked to a user federation provider; imported as a local user without password`);
  const attributes = Object.fromEntries(Object.entries(isObject(u.attributes) ? u.attributes : {}).map(([k, v]) => [k, arr(v).filter((x): x is string => typeof x === "string")]));
  const roles = arr(u.realmRoles).filter((r): r is string => typeof r === "string" && !IGNORED_ROLES.test(r));
  const credentials: Json[] = [];
  for (const cred of arr(u.credentials).filter(isObject)) {
    if (cred.type !== "password") {
      notes.push(`user "${username}": ${String(cred.type)} credentials are not supported, skipped`);
      continue;
    }
    const h = passwordHash(cred);
    if ("hash" in h) credentials.push({ type: "password", hash: h.hash });
    else notes.push(`user "${username}": password not imported (${h.note})`);
  }
  return {
    username,
    ...(str(u.email) && { email: str(u.email) }),
    emailVerified: u.emailVerified === true,
    enabled: u.enabled !== false,
    ...(str(u.firstName) && { firstName: str(u.firstName) }),
    ...(str(u.lastName) && { lastName: str(u.lastName) }),
    attributes,
    realmRoles: roles,
    ...(credentials.length > 0 && { credentials: credentials.slice(0, 1) }),
  };
}

const one = (config: Json, key: string): string | undefined => str(arr(config[key])[0]) ?? str(config[key]);
const LDAP_PROVIDERS = "org.keycloak.storage.UserStorageProvider";
const LDAP_MAPPERS = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper";
const PROFILE_ATTRIBUTES: Record<string, string> = { username: "usernameAttribute", email: "emailAttribute", firstName: "firstNameAttribute", lastName: "lastNameAttribute" };

/** Keycloak's LDAP provider (component config: arrays of strings) → x509-idp's `ldap`; undefined when there is none. */
function convertLdap(k: Json, notes: string[]): Json | undefined {
  const components = isObject(k.components) ? k.components : {};
  const providers = arr(components[LDAP_PROVIDERS]).filter(isObject).filter((c) => c.providerId === "ldap");
  const provider = providers[0];
  if (!provider) return undefined;
  for (const other of providers.slice(1)) notes.push(`LDAP provider "${String(other.name)}": only one LDAP provider per realm is supported, skipped`);
  const config = isObject(provider.config) ? provider.config : {};
  const label = `LDAP provider "${String(provider.name ?? "ldap")}"`;
  const ms = (key: string) => {
    const n = Number(one(config, key));
    return Number.isInteger(n) && n >= 100 && n <= 120_000 ? n : undefined;
  };
  const credential = one(config, "bindCredential");
  const ldap: Json = {
    enabled: one(config, "enabled") !== "false",
    connectionUrls: (one(config, "connectionUrl") ?? "").split(/\s+/).filter(Boolean),
    startTls: one(config, "startTls") === "true",
    ...(one(config, "bindDn") && { bindDn: one(config, "bindDn") }),
    ...(credential && !/^\*+$/.test(credential) && { bindCredential: credential }),
    usersDn: one(config, "usersDn"),
    searchScope: one(config, "searchScope") === "2" ? "sub" : "one",
    ...(one(config, "userObjectClasses") && { userObjectClasses: (one(config, "userObjectClasses") as string).split(",").map((c) => c.trim()).filter(Boolean) }),
    ...(one(config, "usernameLDAPAttribute") && { usernameAttribute: one(config, "usernameLDAPAttribute") }),
    ...(one(config, "uuidLDAPAttribute") && { uuidAttribute: one(config, "uuidLDAPAttribute") }),
    ...(ms("connectionTimeout") && { connectTimeoutMs: ms("connectionTimeout") }),
    ...(ms("readTimeout") && { timeoutMs: ms("readTimeout") }),
  };
  if (credential && /^\*+$/.test(credential)) notes.push(`${label}: the export holds no bind credential; set it with PUT /admin/realms/{realm}/ldap`);
  if (one(config, "customUserSearchFilter")) notes.push(`${label}: the custom user search filter is not supported, ignored`);
  if (/^ldaps:/i.test(String(ldap.connectionUrls)) || ldap.startTls) notes.push(`${label}: Keycloak's truststore is not in the export; give the LDAP servers' CA as ldap.caCertificates unless Node's CA list trusts them`);
  const attributeMappers: Json[] = [];
  const subComponents = isObject(provider.subComponents) ? provider.subComponents : {};
  for (const m of arr(subComponents[LDAP_MAPPERS]).filter(isObject)) {
    const mc = isObject(m.config) ? m.config : {};
    const model = one(mc, "user.model.attribute");
    const attribute = one(mc, "ldap.attribute");
    if ((m.providerId === "user-attribute-ldap-mapper" || m.providerId === "certificate-ldap-mapper") && model && attribute) {
      if (m.providerId === "user-attribute-ldap-mapper" && PROFILE_ATTRIBUTES[model]) ldap[PROFILE_ATTRIBUTES[model] as string] = attribute;
      else attributeMappers.push({ name: model, ldapAttribute: attribute, ...(m.providerId === "certificate-ldap-mapper" && { certificate: one(mc, "is.der.formatted") === "true" ? "der" : "pem" }) });
    } else notes.push(`${label}: mapper "${String(m.name)}" (${String(m.providerId)}) is not supported, skipped`);
  }
  if (attributeMappers.length) ldap.attributeMappers = attributeMappers;
  return ldap;
}

/** Converts a Keycloak realm export; `trustAnchors` (PEM) become the realm's X.509 anchors. */
export function convertKeycloakRealm(k: unknown, trustAnchors: string[] = []): KeycloakConversion {
  if (!isObject(k) || typeof k.realm !== "string") throw new ValidationError(["not a Keycloak realm export: expected an object with \"realm\""]);
  const notes: string[] = [];
  const realm: Json = { realm: k.realm };
  for (const f of REALM_FIELDS) if (k[f] !== undefined && k[f] !== null) realm[f] = k[f];
  if (k.bruteForceStrategy !== undefined && k.bruteForceStrategy !== "MULTIPLE") {
    notes.push(`bruteForceStrategy ${String(k.bruteForceStrategy)} is not supported: the wait grows as MULTIPLE (waitIncrementSeconds × ⌊failures / failureFactor⌋)`);
  }
  if (k.defaultSignatureAlgorithm === "ES256" || k.defaultSignatureAlgorithm === "RS256") realm.defaultSignatureAlgorithm = k.defaultSignatureAlgorithm;
  else if (k.defaultSignatureAlgorithm !== undefined) notes.push(`defaultSignatureAlgorithm ${String(k.defaultSignatureAlgorithm)} is not supported; ES256 is used`);
  realm.clients = arr(k.clients).filter(isObject).map((c) => convertClient(c, notes)).filter((c): c is Json => c !== undefined);
  realm.users = arr(k.users).filter(isObject).map((u) => convertUser(u, notes)).filter((u): u is Json => u !== undefined);
  const ldap = convertLdap(k, notes);
  if (ldap) realm.ldap = ldap;
  const browser = x509Flow(k, str(k.browserFlow) ?? "browser", BROWSER_X509, notes, "browser flow");
  const directGrant = x509Flow(k, str(k.directGrantFlow) ?? "direct grant", DIRECT_GRANT_X509, notes, "direct grant flow");
  if (browser.enabled || directGrant.enabled || trustAnchors.length > 0) {
    realm.x509 = { browser, directGrant, trustAnchors };
    if (trustAnchors.length === 0) notes.push("X.509 login is configured but no trust anchors were given (--trust): every certificate will be refused until they are added");
  }
  return { realm, notes };
}
