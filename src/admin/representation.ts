// The realm representation: x509-idp's JSON for realms, clients and users, modelled on Keycloak's realm
// representation (same field names where Keycloak has the field). Used by `realm import/export` and the admin API.
// README § "Realm JSON" documents it; extensions over Keycloak are marked "x509-idp" below.
import { z } from "zod";
import { isUnambiguousUri } from "../realms/redirect-uri.ts";
import { isArgon2idHash, isVerifiableHash, MAX_PASSWORD_LENGTH } from "../users/passwords.ts";
import { usernameProblem } from "../users/username.ts";
import { CertificateParseError, CLIENT_CERT_KEYS, DEFAULT_LIMITS, parseAuthenticatorConfig, parseCertificates, parseClientCertificateRule, X509ConfigError, type Certificate } from "../x509/index.ts";

export const REALM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const seconds = z.number().int().min(1).max(10 * 365 * 24 * 3600);

/**
 * An absolute http(s) or custom-scheme URI, optionally ending in Keycloak's `*` wildcard; with one reading only (no
 * fragment, dot segments, encoded slashes, userinfo: realms/redirect-uri.ts).
 */
const redirectUri = z.string().max(2048).refine((s) => {
  const base = s.endsWith("*") ? s.slice(0, -1) : s;
  return isUnambiguousUri(base) && !base.includes("*");
}, "must be an absolute URI without a fragment, dot segments, encoded slashes or userinfo; `*` is allowed only at the end");

const origin = z.string().max(2048).refine((s) => s === "+" || s === "*" || /^https?:\/\/[^/]+$/.test(s), "must be an origin (scheme://host[:port]), + or *");

export const SCOPES = ["openid", "profile", "email", "offline_access"] as const;
const scope = z.enum(SCOPES);
const signatureAlg = z.enum(["ES256", "RS256"]);
/** A client's access tokens: Keycloak's JWTs (the default) or opaque, stored ones (oidc/access-tokens.ts). */
export const ACCESS_TOKEN_FORMATS = ["jwt", "opaque"] as const;
export type AccessTokenFormat = (typeof ACCESS_TOKEN_FORMATS)[number];

/** Client authentication by certificate (RFC 8705 §2): the two methods, Keycloak's authenticator type for both. */
export const CERTIFICATE_AUTH_METHODS = ["tls_client_auth", "self_signed_tls_client_auth"] as const;
export const CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", ...CERTIFICATE_AUTH_METHODS] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];
/** Whether a client authenticates with a certificate (then it has no secret). */
export const isCertificateClient = (c: { clientAuthenticatorType?: string | undefined; tokenEndpointAuthMethod?: string | undefined }) =>
  c.clientAuthenticatorType === "client-x509" || (CERTIFICATE_AUTH_METHODS as readonly string[]).includes(c.tokenEndpointAuthMethod ?? "");

const attribute = z.string().max(4096).optional();
const booleanAttribute = z.enum(["true", "false"]).optional();
/** RFC 7591 jwks: for self_signed_tls_client_auth, each key's x5c[0] is a certificate the client may present. */
const jwksSchema = z.strictObject({
  keys: z.array(z.looseObject({ x5c: z.array(z.string().max(20_000)).min(1).max(10) })).min(1).max(10),
});

export const clientSchema = z.strictObject({
  clientId: z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"),
  name: z.string().max(255).optional(),
  enabled: z.boolean().default(true),
  publicClient: z.boolean().default(false),
  /** Plain secret to set (stored hashed). */
  secret: z.string().min(1).max(MAX_PASSWORD_LENGTH).optional(),
  /** x509-idp: an argon2id hash, as written by export (so an export imports with working secrets). */
  secretHash: z.string().refine(isArgon2idHash, "must be an argon2id hash as written by export").optional(),
  /** Keycloak: "client-secret" (the default) or "client-x509" (a certificate: tls_client_auth or self_signed_tls_client_auth). */
  clientAuthenticatorType: z.enum(["client-secret", "client-x509"]).optional(),
  /** Which method discovery advertises; a confidential client with a secret is accepted with either secret method. */
  tokenEndpointAuthMethod: z.enum(CLIENT_AUTH_METHODS).optional(),
  /** RFC 7591: the certificates of a self_signed_tls_client_auth client (keys[].x5c). */
  jwks: jwksSchema.optional(),
  redirectUris: z.array(redirectUri).max(100).default([]),
  /** x509-idp: Keycloak keeps these in attributes["post.logout.redirect.uris"]. */
  postLogoutRedirectUris: z.array(redirectUri).max(100).default([]),
  webOrigins: z.array(origin).max(100).default([]),
  standardFlowEnabled: z.boolean().default(true),
  directAccessGrantsEnabled: z.boolean().default(false),
  serviceAccountsEnabled: z.boolean().default(false),
  consentRequired: z.boolean().default(false),
  defaultClientScopes: z.array(scope).default(["profile", "email"]),
  optionalClientScopes: z.array(scope).default(["offline_access"]),
  /** x509-idp: overrides the realm's defaultSignatureAlgorithm for this client's ID tokens. */
  idTokenSignedResponseAlg: signatureAlg.optional(),
  /** Keycloak's client attributes that x509-idp reads (README "Clients"). */
  attributes: z.strictObject({
    "access.token.format": z.enum(ACCESS_TOKEN_FORMATS).optional(),
    "tls.client.certificate.bound.access.tokens": booleanAttribute,
    [CLIENT_CERT_KEYS.subjectDn]: attribute,
    [CLIENT_CERT_KEYS.allowRegex]: booleanAttribute,
    [CLIENT_CERT_KEYS.caSubjectDn]: attribute,
    [CLIENT_CERT_KEYS.issuerSha256]: attribute,
    [CLIENT_CERT_KEYS.rfcSubjectDn]: attribute,
    [CLIENT_CERT_KEYS.sanDns]: attribute,
    [CLIENT_CERT_KEYS.sanUri]: attribute,
    [CLIENT_CERT_KEYS.sanIp]: attribute,
    [CLIENT_CERT_KEYS.sanEmail]: attribute,
    /** x509-idp: the PEM certificate(s) of a self_signed_tls_client_auth client (besides, or instead of, jwks). */
    "x509.certificate": z.string().max(60_000).optional(),
  }).optional(),
}).refine((c) => !(c.publicClient && (c.secret || c.secretHash)), { message: "a public client has no secret", path: ["secret"] })
  .refine((c) => !(c.publicClient && c.serviceAccountsEnabled), { message: "a public client cannot use service accounts (client credentials)", path: ["serviceAccountsEnabled"] })
  .refine((c) => !(c.secret && c.secretHash), { message: "give secret or secretHash, not both", path: ["secretHash"] })
  .superRefine((c, ctx) => {
    if (!isCertificateClient(c)) return;
    const issue = (path: string[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const method = c.tokenEndpointAuthMethod;
    if (c.clientAuthenticatorType === "client-secret") return issue(["clientAuthenticatorType"], `"client-secret" does not authenticate with ${method}: use "client-x509"`);
    if (method === "client_secret_basic" || method === "client_secret_post") return issue(["tokenEndpointAuthMethod"], `a client-x509 client uses tls_client_auth or self_signed_tls_client_auth, not ${method}`);
    if (c.publicClient) return issue(["publicClient"], "a public client does not authenticate: it cannot use a certificate method");
    if (c.secret !== undefined) return issue(["secret"], "a client that authenticates with a certificate has no secret");
    if (c.secretHash !== undefined) return issue(["secretHash"], "a client that authenticates with a certificate has no secret");
    const attributes = c.attributes ?? {};
    if ((method ?? "tls_client_auth") === "tls_client_auth") {
      try {
        parseClientCertificateRule(attributes);
      } catch (e) {
        if (!(e instanceof X509ConfigError)) throw e;
        issue(e.key.split("."), e.message.slice(e.key.length + 2));
      }
      return;
    }
    if (!c.jwks && !attributes["x509.certificate"]) return issue(["jwks"], "a self_signed_tls_client_auth client needs its certificate: jwks (keys[].x5c) or attributes[\"x509.certificate\"] (PEM)");
    try {
      selfSignedCertificates(c);
    } catch (e) {
      if (!(e instanceof CertificateParseError)) throw e;
      issue(e.message.startsWith("jwks") ? ["jwks"] : ["attributes", "x509.certificate"], e.message);
    }
  });

/** The certificates a self_signed_tls_client_auth client may present: jwks keys' x5c[0], then the PEM attribute. */
export function selfSignedCertificates(c: Pick<ClientRepresentation, "jwks" | "attributes">): Certificate[] {
  const out: Certificate[] = [];
  for (const [i, k] of (c.jwks?.keys ?? []).entries()) {
    try {
      out.push(...parseCertificates(k.x5c[0] as string, { ...DEFAULT_LIMITS, maxCertificates: 1 }));
    } catch (e) {
      if (e instanceof CertificateParseError) throw new CertificateParseError(e.code, `jwks.keys[${i}].x5c[0]: ${e.message}`);
      throw e;
    }
  }
  const pem = c.attributes?.["x509.certificate"];
  if (pem) out.push(...parseCertificates(pem));
  return out;
}

const credentialSchema = z.strictObject({
  type: z.literal("password"),
  value: z.string().min(1).max(MAX_PASSWORD_LENGTH).optional(),
  /** x509-idp: an argon2id hash, as written by export (or a Keycloak argon2/PBKDF2 hash converted by --keycloak import). */
  hash: z.string().refine(isVerifiableHash, "must be an argon2id hash as written by export").optional(),
  temporary: z.literal(false).optional(),
}).refine((c) => (c.value === undefined) !== (c.hash === undefined), { message: "give exactly one of value or hash" });

const attributeName = z.string().min(1).max(255);
const attributeValue = z.string().max(4096);

/**
 * A map whose keys are data (user attribute names, authenticator configuration keys): read from the input's own keys
 * and built without a prototype (users/attributes.ts), so `constructor` and `__proto__` are keys like any other.
 * (z.record reads into a plain object, where `__proto__` is lost and `constructor` collides with Object's.)
 */
function dataMap<V extends z.ZodType>(key: z.ZodString, value: V, max: number, what: string, o: { storedAsJson?: boolean } = {}) {
  return z.unknown().optional().transform((input, ctx): Record<string, z.output<V>> => {
    const out = Object.create(null) as Record<string, z.output<V>>;
    if (input === undefined) return out;
    if (!isObject(input)) {
      ctx.addIssue({ code: "custom", message: `expected an object of ${what}` });
      return z.NEVER;
    }
    const entries = Object.entries(input);
    if (entries.length > max) ctx.addIssue({ code: "custom", message: `at most ${max} entries` });
    for (const [name, raw] of entries.slice(0, max)) {
      const k = key.safeParse(name);
      if (!k.success) ctx.addIssue({ code: "custom", path: [name], message: `name: ${k.error.issues[0]?.message ?? "invalid"}` });
      // Prisma's JSON columns drop a "__proto__" key on write: refused rather than lost.
      if (o.storedAsJson && name === "__proto__") ctx.addIssue({ code: "custom", path: [name], message: "this key cannot be stored" });
      const v = value.safeParse(raw);
      if (!v.success) for (const i of v.error.issues) ctx.addIssue({ code: "custom", path: [name, ...i.path.filter((p) => typeof p !== "symbol")], message: i.message });
      if (k.success && v.success) out[name] = v.data;
    }
    return out;
  });
}

/** A user's attributes: name → values (no prototype). */
const attributesSchema = dataMap(attributeName, z.array(attributeValue).max(100), 1000, "attribute names, each with a list of values");

export const userSchema = z.strictObject({
  // Stored lower-case; users/username.ts says which names are refused (homographs, invisible characters…).
  username: z.string().trim().min(1).max(255).transform((s, ctx) => {
    const lower = s.toLowerCase();
    const problem = usernameProblem(lower);
    if (problem === undefined) return lower;
    ctx.addIssue({ code: "custom", message: problem });
    return z.NEVER;
  }),
  // As lenient as Keycloak: intranet addresses such as user@localhost are valid; one "@", no whitespace.
  email: z.string().max(254).regex(/^[^\s@]+@[^\s@]+$/, "Invalid email address").transform((s) => s.toLowerCase()).optional(),
  emailVerified: z.boolean().default(false),
  enabled: z.boolean().default(true),
  firstName: z.string().max(255).optional(),
  lastName: z.string().max(255).optional(),
  attributes: attributesSchema,
  realmRoles: z.array(z.string().min(1).max(255)).max(100).default([]),
  credentials: z.array(credentialSchema).max(1).optional(),
});

export const realmSettingsSchema = z.strictObject({
  realm: z.string().regex(REALM_NAME, "letters, digits, '.', '_' or '-', at most 64, starting with a letter or digit"),
  displayName: z.string().max(255).optional(),
  enabled: z.boolean().default(true),
  loginWithEmailAllowed: z.boolean().default(true),
  accessTokenLifespan: seconds.default(300),
  accessCodeLifespan: seconds.default(60),
  accessCodeLifespanLogin: seconds.default(1800),
  ssoSessionIdleTimeout: seconds.default(1800),
  ssoSessionMaxLifespan: seconds.default(36000),
  bruteForceProtected: z.boolean().default(true),
  failureFactor: z.number().int().min(1).max(1000).default(10),
  waitIncrementSeconds: seconds.default(60),
  maxFailureWaitSeconds: seconds.default(900),
  maxDeltaTimeSeconds: seconds.default(43200),
  permanentLockout: z.boolean().default(false),
  maxTemporaryLockouts: z.number().int().min(0).max(1000).default(0),
  /** x509-idp: failures from one client address (across accounts) before it is locked; absent or null: 3 × failureFactor; 0: never. */
  ipFailureFactor: z.number().int().min(0).max(100_000).nullable().optional(),
  defaultSignatureAlgorithm: signatureAlg.default("ES256"),
});

/** One flow's X.509 authenticator: on or off, and its configuration (Keycloak's keys; absent: "not configured"). */
const x509FlowSchema = z.strictObject({
  enabled: z.boolean().default(false),
  config: dataMap(z.string().min(1).max(255), z.string().max(64 * 1024), 1000, "configuration keys, each with a text value", { storedAsJson: true }).optional(),
});

/**
 * x509-idp: the realm's X.509 settings. Each config is parsed as it will be used, so a bad value (a regular
 * expression without exactly one group, an unknown key usage…) is refused here, naming the key.
 */
export const x509Schema = z.strictObject({
  browser: x509FlowSchema.default({ enabled: false }),
  directGrant: x509FlowSchema.default({ enabled: false }),
  /** PEM text: one certificate per entry, or a bundle. */
  trustAnchors: z.array(z.string().min(1).max(1024 * 1024)).max(1000).default([]),
}).superRefine((x, ctx) => {
  for (const flow of ["browser", "directGrant"] as const) {
    const config = x[flow].config;
    if (!config) continue;
    try {
      parseAuthenticatorConfig(config);
    } catch (e) {
      if (!(e instanceof X509ConfigError)) throw e;
      ctx.addIssue({ code: "custom", path: [flow, "config", e.key], message: e.message.slice(e.key.length + 2) });
    }
  }
  x.trustAnchors.forEach((pem, i) => {
    try {
      parseCertificates(pem, { maxCertificateBytes: 64 * 1024, maxCertificates: 100, maxInputBytes: 1024 * 1024 });
    } catch (e) {
      if (!(e instanceof CertificateParseError)) throw e;
      ctx.addIssue({ code: "custom", path: ["trustAnchors", i], message: `not a certificate: ${e.message}` });
    }
  });
});

export type X509Representation = z.output<typeof x509Schema>;

/** What GET shows instead of the LDAP bind credential; sent back in a PUT or an import, it keeps the stored one. */
export const CREDENTIAL_MASK = "**********";

// An attribute description (RFC 4512): a name or an OID, with options such as ";binary".
const ldapAttribute = z.string().max(128).regex(/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-]+)*$/, "an LDAP attribute name (such as mail or userCertificate;binary)");
const ldapDn = z.string().trim().min(1).max(1024);
const ldapUrl = z.string().trim().max(2048).regex(/^ldaps?:\/\/[^/?#\s]+\/?$/i, "ldap://host[:port] or ldaps://host[:port]");
const millis = z.number().int().min(100).max(120_000);

/** One user attribute read from LDAP: its name in x509-idp (and in certificate mapping), the LDAP attribute. */
const ldapMapperSchema = z.strictObject({
  name: attributeName,
  ldapAttribute,
  /**
   * This attribute holds certificates: "der" (binary, e.g. userCertificate;binary) or "pem" (text). Such a value is
   * never copied into the local store; it is read from LDAP at every login and compared byte for byte.
   */
  certificate: z.enum(["der", "pem"]).optional(),
});

/**
 * x509-idp: the realm's LDAP user federation (Keycloak: an LDAP user storage provider with its mappers). The bind
 * credential is write-only: stored encrypted, shown as the mask.
 */
export const ldapSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Tried in order: the next one when a server cannot be reached. */
  connectionUrls: z.array(ldapUrl).min(1).max(10),
  startTls: z.boolean().default(false),
  /** PEM bundle the server's certificate must chain to (ldaps:// and StartTLS); absent: Node's built-in CA list. */
  caCertificates: z.string().max(1024 * 1024).optional(),
  bindDn: ldapDn.optional(),
  bindCredential: z.string().min(1).max(1024).optional(),
  usersDn: ldapDn,
  /** "one": the entries directly below usersDn (Keycloak's default); "sub": the whole subtree. */
  searchScope: z.enum(["one", "sub"]).default("one"),
  userObjectClasses: z.array(ldapAttribute).min(1).max(20).default(["inetOrgPerson", "organizationalPerson"]),
  usernameAttribute: ldapAttribute.default("uid"),
  /** The entry's permanent id, which links it to its local record (so `sub` survives renames). */
  uuidAttribute: ldapAttribute.default("entryUUID"),
  emailAttribute: ldapAttribute.default("mail"),
  firstNameAttribute: ldapAttribute.default("givenName"),
  lastNameAttribute: ldapAttribute.default("sn"),
  attributeMappers: z.array(ldapMapperSchema).max(50).default([]),
  /** When set, a user whose attribute holds one of disabledValues (compared ignoring case) is disabled. */
  disabledAttribute: ldapAttribute.optional(),
  disabledValues: z.array(z.string().min(1).max(255)).min(1).max(20).default(["TRUE"]),
  /** Whose user wins when a name is looked up: "local" users first (LDAP is asked only when none matches), or LDAP. */
  precedence: z.enum(["local", "ldap"]).default("local"),
  connectTimeoutMs: millis.default(5000),
  /** For each LDAP operation (bind, search). */
  timeoutMs: millis.default(5000),
}).superRefine((l, ctx) => {
  if (l.startTls && l.connectionUrls.some((u) => /^ldaps:/i.test(u))) ctx.addIssue({ code: "custom", path: ["startTls"], message: "StartTLS upgrades ldap:// connections; an ldaps:// URL is already encrypted" });
  if (l.bindCredential !== undefined && l.bindDn === undefined) ctx.addIssue({ code: "custom", path: ["bindDn"], message: "a bind credential needs a bind DN" });
  const names = new Set<string>();
  l.attributeMappers.forEach((m, i) => {
    if (names.has(m.name)) ctx.addIssue({ code: "custom", path: ["attributeMappers", i, "name"], message: `"${m.name}" is mapped twice` });
    names.add(m.name);
  });
  if (l.caCertificates !== undefined) {
    try {
      parseCertificates(l.caCertificates, { maxCertificateBytes: 64 * 1024, maxCertificates: 100, maxInputBytes: 1024 * 1024 });
    } catch (e) {
      if (!(e instanceof CertificateParseError)) throw e;
      ctx.addIssue({ code: "custom", path: ["caCertificates"], message: `not a PEM bundle: ${e.message}` });
    }
  }
});

export type LdapRepresentation = z.output<typeof ldapSchema>;

export const realmSchema = realmSettingsSchema.extend({
  /** x509-idp: absent in a file leaves the stored X.509 settings as they are. */
  x509: x509Schema.optional(),
  /** x509-idp: absent leaves the stored LDAP federation as it is; null removes it. */
  ldap: ldapSchema.nullable().optional(),
  clients: z.array(clientSchema).max(10_000).default([]),
  users: z.array(userSchema).max(100_000).default([]),
}).superRefine((r, ctx) => {
  const seen = (items: string[], field: string, label: string) => {
    const first = new Map<string, number>();
    items.forEach((v, i) => {
      const j = first.get(v);
      if (j === undefined) first.set(v, i);
      else ctx.addIssue({ code: "custom", path: [field, i], message: `${label} "${v}" is also used by ${field}[${j}]` });
    });
  };
  seen(r.clients.map((c) => c.clientId), "clients", "clientId");
  seen(r.users.map((u) => u.username), "users", "username");
  const emails = r.users.map((u, i) => [u.email?.toLowerCase(), i] as const).filter((e): e is readonly [string, number] => !!e[0]);
  const byEmail = new Map<string, number>();
  for (const [email, i] of emails) {
    const j = byEmail.get(email);
    if (j === undefined) byEmail.set(email, i);
    else ctx.addIssue({ code: "custom", path: ["users", i, "email"], message: `e-mail "${email}" is also used by users[${j}]` });
  }
});

export type RealmSettingsRepresentation = z.output<typeof realmSettingsSchema>;
export type ClientRepresentation = z.output<typeof clientSchema>;
export type UserRepresentation = z.output<typeof userSchema>;
export type RealmRepresentation = z.output<typeof realmSchema>;

/** A JSON object (not an array, not null): what partial updates merge onto the stored representation. */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A client mistake in a representation: the message names the field. */
export class ValidationError extends Error {
  readonly fields: string[];
  constructor(messages: string[]) {
    super(messages.join("; "));
    this.fields = messages;
  }
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), "");
}

/**
 * Where a string of `input` (a value or a key) holds NUL, which no database column can keep (PostgreSQL text refuses
 * it): such a field is refused before anything is written. At most `max` paths.
 */
function nulPaths(input: unknown, max = 20): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    if (out.length >= max) return;
    if (typeof v === "string") {
      if (v.includes("\u0000")) out.push(at);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...at, i]));
    } else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes("\u0000")) out.push([...at, k.replaceAll("\u0000", "\\0")]);
        else walk(x, [...at, k]);
      }
    }
  };
  walk(input, []);
  return out;
}

/** Parses `input` with `schema`, or throws a ValidationError whose messages name each bad field. */
export function parseRepresentation<S extends z.ZodType>(schema: S, input: unknown, prefix = ""): z.output<S> {
  const nul = nulPaths(input);
  if (nul.length) throw new ValidationError(nul.map((p) => `${fieldPath([...(prefix ? [prefix] : []), ...p]) || "body"}: must not contain the NUL character`));
  const res = schema.safeParse(input);
  if (res.success) return res.data;
  throw new ValidationError(res.error.issues.slice(0, 20).map((i) => {
    const where = fieldPath([...(prefix ? [prefix] : []), ...i.path]);
    return `${where || "body"}: ${i.message}`;
  }));
}
