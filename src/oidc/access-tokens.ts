// Access tokens as Keycloak issues them: JWTs signed with the realm's key, which applications validate locally against
// the JWKS (keycloak-oidc.md §5). No row is stored per token. What a stored token offered is kept:
// - revocation: a revoked token's jti, or its whole grant, is written to a small list that lives only as long as the
//   token (or the grant) could (model REVOKED in the provider's table, swept like any expired row);
// - logout: userinfo, introspection and x509-idp's own resources find a JWT only while its grant exists (logout and
//   refresh-token replay delete the grant) and, for a token bound to a browser session, while that session does.
// A client with the attribute `access.token.format: opaque` keeps opaque tokens stored by the adapter, as before.
//
// oidc-provider issues JWT access tokens only to resource servers (resource indicators), and those cannot be used at
// userinfo. Here its AccessToken and ClientCredentials models keep their behaviour and only the value they serialise
// to changes: `getValueAndPayload` returns the signed JWT and no payload (so nothing is stored), and the adapter
// (oidc/adapter.ts) turns a presented JWT back into the payload those models expect.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import type { Context, Next } from "koa";
import { Provider, type Client } from "oidc-provider";
import { PROVIDER_BODY_LIMIT, readRaw } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import type { PrivateJwk, SigningAlg } from "./keys.ts";
import { CLAIMS } from "./account.ts";
import type { AccessTokenFormat } from "../admin/representation.ts";

/** The client metadata that carries a client's access token format (oidc/clients.ts). */
export const FORMAT_METADATA = "x509idp:access_token_format";

/** The provider table's model of the revocation list. */
export const REVOKED = "RevokedAccessToken";

/** A compact JWS: three base64url parts. An opaque token (43 characters of base64url) never has a dot. */
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;
export const isJwt = (value: string): boolean => value.length <= 8192 && COMPACT_JWS.test(value);

/** What oidc-provider needs to rebuild a token, in one private claim (`x509idp`) of the JWT. */
interface Internal {
  /** The grant (absent for client credentials). */
  grant?: string;
  gty?: string;
  /** The browser session the token expires with (oidc-provider's sessionUid with expiresWithSession). */
  session?: string;
}

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  typ: "Bearer";
  azp: string;
  sid?: string;
  scope?: string;
  cnf?: { "x5t#S256": string };
  x509idp: Internal;
  [claim: string]: unknown;
}

/** The payload oidc-provider's models verify and instantiate (what the adapter would have stored). */
export interface RebuiltPayload {
  [key: string]: unknown;
  jti: string;
  kind: "AccessToken" | "ClientCredentials";
  iat: number;
  exp: number;
  clientId: string;
}

interface Signer {
  kid: string;
  alg: SigningAlg;
  key: KeyObject;
  header: string;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64url");

/** Claims a scope puts into the access token, as Keycloak's default profile and email mappers do. */
const SCOPE_CLAIMS: Record<string, readonly string[]> = { profile: CLAIMS.profile, email: CLAIMS.email };

/** Signs and verifies one realm's JWT access tokens with the realm's signing keys. */
export class AccessTokenJwts {
  readonly issuer: string;
  readonly #signer: Signer;
  readonly #verifiers = new Map<string, { alg: SigningAlg; key: KeyObject }>();

  /** `alg`: the realm's default signature algorithm; its first key signs, every key of the realm verifies. */
  constructor(issuer: string, keys: readonly PrivateJwk[], alg: SigningAlg) {
    this.issuer = issuer;
    let signer: Signer | undefined;
    for (const jwk of keys) {
      const key = createPrivateKey({ key: jwk, format: "jwk" });
      this.#verifiers.set(jwk.kid, { alg: jwk.alg, key: createPublicKey(key) });
      if (!signer && jwk.alg === alg) signer = { kid: jwk.kid, alg, key, header: b64(JSON.stringify({ alg, typ: "JWT", kid: jwk.kid })) };
    }
    if (!signer) throw new Error(`the realm has no ${alg} signing key`);
    this.#signer = signer;
  }

  sign(claims: AccessTokenClaims): string {
    const input = `${this.#signer.header}.${b64(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(input), this.#signer.alg === "ES256" ? { key: this.#signer.key, dsaEncoding: "ieee-p1363" } : this.#signer.key);
    return `${input}.${signature.toString("base64url")}`;
  }

  /** The claims of a JWT this realm signed, or undefined (bad signature, unknown key, another issuer, not an access token). Expiry is the caller's. */
  verify(value: string): AccessTokenClaims | undefined {
    if (!isJwt(value)) return undefined;
    const [h, p, s] = value.split(".") as [string, string, string];
    let header: { alg?: unknown; kid?: unknown };
    let claims: AccessTokenClaims;
    try {
      header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as typeof header;
      const key = typeof header.kid === "string" ? this.#verifiers.get(header.kid) : undefined;
      if (!key || header.alg !== key.alg) return undefined;
      const signature = Buffer.from(s, "base64url");
      const ok = verify("sha256", Buffer.from(`${h}.${p}`), key.alg === "ES256" ? { key: key.key, dsaEncoding: "ieee-p1363" } : key.key, signature);
      if (!ok) return undefined;
      claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as AccessTokenClaims;
    } catch {
      return undefined;
    }
    const valid = claims !== null && typeof claims === "object" && claims.iss === this.issuer && claims.typ === "Bearer" &&
      typeof claims.jti === "string" && typeof claims.azp === "string" && typeof claims.sub === "string" &&
      Number.isInteger(claims.exp) && Number.isInteger(claims.iat) && typeof claims.x509idp === "object" && claims.x509idp !== null;
    return valid ? claims : undefined;
  }
}

/** The payload oidc-provider's model is rebuilt from; `value` (the JWT) stands as its id, so revoking it reaches the adapter. */
export function rebuild(value: string, c: AccessTokenClaims): RebuiltPayload {
  const { grant, gty, session } = c.x509idp;
  const base = { jti: value, iat: c.iat, exp: c.exp, clientId: c.azp, ...(c.scope && { scope: c.scope }), ...(c.cnf && { "x5t#S256": c.cnf["x5t#S256"] }) };
  if (grant === undefined) return { ...base, kind: "ClientCredentials" };
  return {
    ...base,
    kind: "AccessToken",
    accountId: c.sub,
    grantId: grant,
    ...(gty && { gty }),
    ...(c.sid && { sid: c.sid }),
    ...(session && { sessionUid: session, expiresWithSession: true }),
  };
}

/** The token models' fields read here (oidc-provider's AccessToken and ClientCredentials instances). */
interface TokenModel {
  jti?: string;
  kind: string;
  iat?: number;
  exp?: number;
  expiration: number;
  client?: Client;
  clientId?: string;
  accountId?: string;
  grantId?: string;
  gty?: string;
  scope?: string;
  sid?: string;
  sessionUid?: string;
  expiresWithSession?: boolean;
  claims?: unknown;
  resource?: unknown;
  aud?: unknown;
  rar?: unknown;
  jkt?: string;
  "x5t#S256"?: string;
}

/** A client's access token format (JWT unless its metadata says opaque). */
export const formatOf = (client: Client | undefined): AccessTokenFormat => (client?.[FORMAT_METADATA] === "opaque" ? "opaque" : "jwt");

/**
 * Makes the provider's access tokens (and client-credentials tokens) JWTs for clients whose format is "jwt". Tokens
 * that carry what a JWT here cannot (a claims request, resource indicators, authorization details, DPoP) stay opaque.
 */
export function issueJwtAccessTokens(provider: Provider, jwts: AccessTokenJwts): void {
  for (const model of [provider.AccessToken, provider.ClientCredentials] as unknown as { prototype: { getValueAndPayload(): Promise<{ value: string; payload?: unknown }> } }[]) {
    const opaque = model.prototype.getValueAndPayload;
    model.prototype.getValueAndPayload = async function (this: TokenModel) {
      if (formatOf(this.client) !== "jwt" || this.claims !== undefined || this.resource !== undefined || this.aud !== undefined || this.rar !== undefined || this.jkt !== undefined) {
        return opaque.call(this);
      }
      return { value: jwts.sign(await claimsOf(this, jwts.issuer)) };
    };
  }
}

async function claimsOf(token: TokenModel, issuer: string): Promise<AccessTokenClaims> {
  const clientId = token.clientId ?? token.client?.clientId ?? "";
  const iat = token.iat ?? Math.floor(Date.now() / 1000);
  const exp = token.exp ?? iat + token.expiration;
  const internal: Internal = token.kind === "AccessToken"
    ? { grant: token.grantId, ...(token.gty && { gty: token.gty }), ...(token.expiresWithSession && token.sessionUid && { session: token.sessionUid }) }
    : {};
  const claims: AccessTokenClaims = {
    exp, iat, jti: token.jti ?? "", iss: issuer, aud: clientId, sub: token.accountId ?? clientId, typ: "Bearer", azp: clientId,
    ...(token.sid && { sid: token.sid }),
    ...(token.scope && { scope: token.scope }),
    x509idp: internal,
  };
  if (token.kind === "AccessToken" && token.scope) Object.assign(claims, await accountClaims(token.scope));
  if (token["x5t#S256"]) claims.cnf = { "x5t#S256": token["x5t#S256"] };
  return claims;
}

/** The user's claims for the granted scopes, from the account the request loaded (every grant that issues an access token loads it). */
async function accountClaims(scope: string): Promise<Record<string, unknown>> {
  const ctx = Provider.ctx as { oidc?: { account?: { claims(use: string, scope: string, claims: object, rejected: string[]): Promise<Record<string, unknown>> } } } | undefined;
  const account = ctx?.oidc?.account;
  if (!account) return {};
  const all = await account.claims("access_token", scope, {}, []);
  const out: Record<string, unknown> = {};
  for (const s of scope.split(" ")) {
    for (const name of SCOPE_CLAIMS[s] ?? []) if (all[name] !== undefined && all[name] !== null) out[name] = all[name];
  }
  return out;
}

// oidc-provider's introspection and revocation endpoints refuse any token that parses as a JWT before looking it up
// (their rule for resource-server tokens). For ours, the `token` parameter is handed to them as an alias without dots
// (`jwt~` + the JWT with its dots as `~`; neither character occurs in an opaque token), which the adapter turns back.
const ALIAS = "jwt~";
export const toAlias = (jwt: string): string => ALIAS + jwt.replaceAll(".", "~");
export const fromAlias = (id: string): string => (id.startsWith(ALIAS) ? id.slice(ALIAS.length).replaceAll("~", ".") : id);

/** Provider middleware: at `paths` (introspection, revocation), a JWT in the form's `token` becomes its alias. */
export function aliasStructuredTokens(paths: readonly string[]) {
  return async (ctx: Context, next: Next): Promise<unknown> => {
    if (ctx.method !== "POST" || !paths.includes(ctx.path) || !ctx.is("application/x-www-form-urlencoded")) return next();
    // A body declared too large is oidc-provider's to refuse, unread.
    if (ctx.request.length !== undefined && ctx.request.length > PROVIDER_BODY_LIMIT) return next();
    let raw: Buffer;
    try {
      raw = await readRaw(ctx, PROVIDER_BODY_LIMIT);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      ctx.status = 400;
      ctx.body = { error: "invalid_request", error_description: "failed to parse the request body" };
      return;
    }
    const form = raw.toString("latin1");
    // Only the token pair changes; every other byte reaches oidc-provider as the client sent it.
    const rewritten = form.split("&").map((pair) => {
      if (!pair.startsWith("token=")) return pair;
      const value = pair.slice("token=".length);
      return isJwt(value) ? `token=${toAlias(value)}` : pair;
    }).join("&");
    const replay = Buffer.from(rewritten, "latin1");
    ctx.req.headers["content-length"] = String(replay.length);
    delete ctx.req.headers["transfer-encoding"];
    // oidc-provider reads the body from req.iterator() while req.readable.
    Object.defineProperty(ctx.req, "readable", { value: true, configurable: true });
    Object.defineProperty(ctx.req, "iterator", { value: async function* () { yield replay; }, configurable: true });
    return next();
  };
}

/**
 * Introspection as Keycloak answers it (keycloak-oidc.md, issue #15 item 4): for an active token, the token's claims
 * (a JWT access token's, x509-idp's private `x509idp` claim left out) and oidc-provider's answer (`active`,
 * `client_id`, `token_type`, `cnf`, …), plus `username`: the user's, or Keycloak's `service-account-<client>` for a
 * client-credentials token. `jwt` is the token as the client sent it (oidc-provider has verified it: it is active).
 */
export async function keycloakIntrospection(answer: Record<string, unknown>, jwt: string | undefined, usernameOf: (sub: string) => Promise<string | undefined>): Promise<Record<string, unknown>> {
  let claims: Record<string, unknown> = {};
  if (jwt !== undefined && isJwt(jwt)) {
    try {
      const { x509idp: _internal, ...rest } = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
      claims = rest;
    } catch {
      claims = {};
    }
  }
  // The token's own claims win over oidc-provider's view of them (its jti is the storage id, here the JWT itself).
  const merged: Record<string, unknown> = { ...Object.fromEntries(Object.entries(answer).filter(([, v]) => v !== undefined)), ...claims };
  merged.active = true;
  if (answer.client_id !== undefined) merged.client_id = answer.client_id;
  if (answer.token_type !== undefined) merged.token_type = answer.token_type;
  const sub = typeof merged.sub === "string" ? merged.sub : undefined;
  const clientId = typeof merged.client_id === "string" ? merged.client_id : undefined;
  const username = typeof claims.preferred_username === "string"
    ? claims.preferred_username
    : sub !== undefined && sub === clientId ? `service-account-${clientId}` : sub !== undefined ? await usernameOf(sub) : undefined;
  if (username !== undefined) merged.username = username;
  return merged;
}