// Per-realm signing keys, persisted so that issued tokens stay verifiable across restarts and instances.
// Every realm has an ES256 and an RS256 key; the realm's defaultSignatureAlgorithm (or a client's
// idTokenSignedResponseAlg) picks which one signs. oidc-provider signs with the first key of an algorithm.
import { generateKeyPairSync, createHash, type JsonWebKey } from "node:crypto";
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
export async function ensureSigningKeys(db: Tx, realmId: string): Promise<PrivateJwk[]> {
  const load = () => db.signingKey.findMany({ where: { realmId }, orderBy: [{ alg: "asc" }, { priority: "desc" }, { createdAt: "desc" }] });
  let rows = await load();
  const missing = SIGNING_ALGS.filter((alg) => !rows.some((r) => r.alg === alg));
  for (const alg of missing) {
    const jwk = generateSigningKey(alg);
    await db.signingKey.create({ data: { kid: jwk.kid, realmId, alg, privateJwk: JSON.stringify(jwk) } });
  }
  if (missing.length) rows = await load();
  return rows.map((r) => JSON.parse(r.privateJwk) as PrivateJwk);
}
