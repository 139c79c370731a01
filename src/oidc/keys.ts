// Per-realm keys, persisted so that issued tokens and cookies stay valid across restarts and instances, and sealed
// with IDP_SECRET_KEY (config/secret-box.ts): a copy of the database alone (a backup, a replica) holds no usable key.
// Signing keys: every realm has an ES256 and an RS256 key; the realm's defaultSignatureAlgorithm (or a client's
// idTokenSignedResponseAlg) picks which one signs. oidc-provider signs with the first key of an algorithm.
// Cookie keys: the secrets that sign the realm's cookies and its login forms' CSRF tokens.
import { generateKeyPairSync, createHash, randomBytes, type JsonWebKey } from "node:crypto";
import { SEALED, type SecretBox } from "../config/secret-box.ts";
import type { Tx } from "../db/database.ts";

export type SigningAlg = "ES256" | "RS256";
export const SIGNING_ALGS: readonly SigningAlg[] = ["ES256", "RS256"];

export interface PrivateJwk extends JsonWebKey {
  kid: string;
  alg: SigningAlg;
  use: "sig";
}

// RFC 7638 thumbprint as the key id: stable, and the same key never gets two ids.
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

export function generateSigningKey(alg: SigningAlg): PrivateJwk {
  const { privateKey } = alg === "ES256"
    ? generateKeyPairSync("ec", { namedCurve: "P-256" })
    : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  return { ...jwk, kid: thumbprint(jwk), alg, use: "sig" };
}

/**
 * The realm's private signing keys, creating any that are missing. Ordered by algorithm, then highest priority and
 * newest first, so the same keys always come back in the same order (and the first of an algorithm signs).
 */
export async function ensureSigningKeys(db: Tx, box: SecretBox, realmId: string): Promise<PrivateJwk[]> {
  const load = () => db.signingKey.findMany({ where: { realmId }, orderBy: [{ alg: "asc" }, { priority: "desc" }, { createdAt: "desc" }] });
  let rows = await load();
  const missing = SIGNING_ALGS.filter((alg) => !rows.some((r) => r.alg === alg));
  for (const alg of missing) {
    const jwk = generateSigningKey(alg);
    try {
      await db.signingKey.create({ data: { kid: jwk.kid, realmId, alg, privateJwk: box.seal(JSON.stringify(jwk), SEALED.signingKey(realmId, jwk.kid)) } });
    } catch (e) {
      // Another node created this realm's key first (one key per realm, algorithm and priority): that one is used.
      if ((e as { code?: unknown }).code !== "P2002") throw e;
    }
  }
  if (missing.length) rows = await load();
  return rows.map((r) => JSON.parse(box.open(r.privateJwk, SEALED.signingKey(realmId, r.kid))) as PrivateJwk);
}

/** A new realm's cookie keys: one random 256-bit secret (newest first when there are several). */
export function newCookieKeys(): string[] {
  return [randomBytes(32).toString("base64url")];
}

/**
 * The realm's cookie keys, created on first use. Several instances may start at once: the keys are written only
 * where none are stored yet, then read back, so every instance uses the same ones.
 */
export async function ensureCookieKeys(db: Tx, box: SecretBox, realmId: string): Promise<string[]> {
  const context = SEALED.cookieKeys(realmId);
  const read = async () => (await db.realm.findUnique({ where: { id: realmId }, select: { cookieKeys: true } }))?.cookieKeys ?? "";
  let stored = await read();
  if (stored === "") {
    await db.realm.updateMany({ where: { id: realmId, cookieKeys: "" }, data: { cookieKeys: box.seal(JSON.stringify(newCookieKeys()), context) } });
    stored = await read();
  }
  return JSON.parse(box.open(stored, context)) as string[];
}
