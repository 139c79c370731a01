// From a stored client to oidc-provider's client metadata, and the two behaviours x509-idp changes on its Client
// class: secrets are compared against an argon2id hash (redirect URIs are matched by realms/redirect-uri.ts).
import { createHash, X509Certificate } from "node:crypto";
import type { AdapterPayload } from "oidc-provider";
import { verify } from "@node-rs/argon2";
import type { ClientRecord } from "../realms/client-store.ts";
import type { Realm } from "../realms/realm-store.ts";
import { FORMAT_METADATA } from "./access-tokens.ts";
import { selfSignedCertificates } from "../admin/representation.ts";
import { CertificateParseError, CLIENT_CERT_KEYS, parseClientCertificateRule, X509ConfigError } from "../x509/index.ts";
import { CERTIFICATE_METADATA } from "./certificate-clients.ts";

/** The attributes a tls_client_auth client's certificate is checked against (x509/client-auth.ts). */
const CERTIFICATE_ATTRIBUTES: readonly string[] = Object.values(CLIENT_CERT_KEYS);

/**
 * How a client authenticates, as oidc-provider metadata. Certificate attributes were checked when saved; should a
 * stored one still not parse (a rule tightened by a later release), the client cannot authenticate (undefined: it is
 * not found) rather than failing every request.
 */
function authentication(c: ClientRecord): AdapterPayload | undefined {
  try {
    return authenticationOf(c);
  } catch (e) {
    if (e instanceof X509ConfigError || e instanceof CertificateParseError) return undefined;
    throw e;
  }
}

function authenticationOf(c: ClientRecord): AdapterPayload {
  if (c.publicClient) return { token_endpoint_auth_method: "none" };
  if (c.tokenEndpointAuthMethod === "tls_client_auth") {
    const attributes = Object.fromEntries(Object.entries(c.attributes).filter(([k]) => CERTIFICATE_ATTRIBUTES.includes(k)));
    const rule = parseClientCertificateRule(attributes);
    const value = attributes[rule.property] ?? attributes[CLIENT_CERT_KEYS.subjectDn];
    return { token_endpoint_auth_method: "tls_client_auth", [rule.property]: value, [CERTIFICATE_METADATA]: attributes };
  }
  if (c.tokenEndpointAuthMethod === "self_signed_tls_client_auth") {
    // Each certificate as a JWK with its x5c: oidc-provider matches the presented certificate's SHA-256 against them.
    const keys = selfSignedCertificates({ jwks: c.jwks ?? undefined, attributes: c.attributes }).map((cert) => {
      const x = new X509Certificate(cert.der);
      return { ...x.publicKey.export({ format: "jwk" }), x5c: [cert.base64] };
    });
    return { token_endpoint_auth_method: "self_signed_tls_client_auth", jwks: { keys } };
  }
  // The hash stands where oidc-provider expects the secret; compareClientSecret below knows it is a hash.
  return { token_endpoint_auth_method: c.tokenEndpointAuthMethod, client_secret: c.secretHash ?? "-no-secret-" };
}

/**
 * Keycloak's tls.client.certificate.bound.access.tokens; absent: bound for clients that authenticate with a
 * certificate (RFC 8705 §3), not for the others.
 */
export function boundTokens(c: ClientRecord): boolean {
  const v = c.attributes["tls.client.certificate.bound.access.tokens"];
  return v === undefined ? c.clientAuthenticatorType === "client-x509" : v === "true";
}

/** Scopes a client receives without asking (Keycloak's default client scopes) and may ask for (optional ones). */
export interface ClientScopes {
  defaults: string[];
  optional: string[];
}

export function toClientMetadata(c: ClientRecord, realm: Realm): AdapterPayload | undefined {
  const auth = c.enabled ? authentication(c) : undefined;
  if (!auth) return undefined;
  const grants = new Set<string>();
  const code = c.standardFlowEnabled && c.redirectUris.length > 0;
  if (code) grants.add("authorization_code").add("refresh_token");
  if (c.directAccessGrantsEnabled) grants.add("password").add("refresh_token");
  if (c.serviceAccountsEnabled && !c.publicClient) grants.add("client_credentials");
  const redirectUris = code ? c.redirectUris : [];
  const custom = redirectUris.some((u) => !/^https?:/i.test(u));
  return {
    client_id: c.clientId,
    ...(c.name && { client_name: c.name }),
    ...auth,
    tls_client_certificate_bound_access_tokens: boundTokens(c),
    application_type: custom ? "native" : "web",
    grant_types: [...grants],
    response_types: code ? ["code"] : [],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    id_token_signed_response_alg: c.idTokenSignedResponseAlg ?? realm.defaultSignatureAlgorithm,
    "x509idp:consent_required": c.consentRequired,
    "x509idp:default_scopes": c.defaultClientScopes,
    "x509idp:optional_scopes": c.optionalClientScopes,
    "x509idp:web_origins": webOrigins(c),
    [FORMAT_METADATA]: c.accessTokenFormat,
  };
}

export const EXTRA_CLIENT_METADATA = [
  "x509idp:consent_required",
  "x509idp:default_scopes",
  "x509idp:optional_scopes",
  "x509idp:web_origins",
  FORMAT_METADATA,
  CERTIFICATE_METADATA,
] as const;

/** Keycloak's webOrigins: "+" means the origins of the redirect URIs, "*" any origin. */
function webOrigins(c: ClientRecord): string[] {
  const out = new Set<string>();
  for (const o of c.webOrigins) {
    if (o === "+") {
      for (const u of c.redirectUris) if (/^https?:/i.test(u) && URL.canParse(u.replace(/\*$/, ""))) out.add(new URL(u.replace(/\*$/, "")).origin);
    } else out.add(o);
  }
  return [...out];
}

// Secrets are argon2id hashes (RFC 6819 §5.1.4.1.3). A successful verification is remembered by a digest of the
// presented secret and the stored hash, so a busy client pays the argon2 cost once, not on every token request.
// Failures are never cached, so every guess costs a full argon2 verification. Verifications of the same secret against
// the same hash that are in flight at once are one verification (a busy client's first requests would otherwise each
// pay the argon2 cost, on libuv's four threads, before the first answer is remembered).
const verified = new Map<string, true>();
const inFlight = new Map<string, Promise<boolean>>();
const MAX_VERIFIED = 10_000;

export type VerifyHash = (hash: string, presented: string) => Promise<boolean>;

export async function compareHashedSecret(storedHash: string | undefined, presented: string, verifyHash: VerifyHash = verify): Promise<boolean> {
  if (!storedHash?.startsWith("$argon2") || presented.length === 0 || presented.length > 1024) return false;
  const key = createHash("sha256").update(storedHash).update("\0").update(presented).digest("base64url");
  if (verified.has(key)) return true;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = verifyHash(storedHash, presented).catch(() => false).then((ok) => {
      inFlight.delete(key);
      if (ok) {
        if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value ?? "");
        verified.set(key, true);
      }
      return ok;
    });
    inFlight.set(key, pending);
  }
  return pending;
}
