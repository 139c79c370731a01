// Secrets that must be read back, encrypted at rest: realm signing keys, realm cookie keys, LDAP bind credentials.
// AES-256-GCM with a key derived by HKDF-SHA256 from IDP_SECRET_KEY, or, when that is not set, from a random key kept
// in IDP_DATA_DIR/secret.key (created on first start, mode 0600). The stored form is "v1.<iv>.<ciphertext+tag>"
// (base64url); the context (what the value is and whose: SEALED below) is the additional data, so a value copied into
// another row does not decrypt. Rotation: values sealed with IDP_SECRET_KEY_PREVIOUS still open, and the start-up pass
// (db/seal-at-rest.ts) seals them again with the current key.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The context each kind of stored secret is sealed with. */
export const SEALED = {
  /** A realm's LDAP bind credential (the realm's id alone, as sealed since the first release). */
  ldapBindCredential: (realmId: string) => realmId,
  signingKey: (realmId: string, kid: string) => `signing-key:${realmId}:${kid}`,
  cookieKeys: (realmId: string) => `cookie-keys:${realmId}`,
} as const;

export class SecretBoxError extends Error {}

const derive = (keyMaterial: string | Uint8Array) => Buffer.from(crypto.hkdfSync("sha256", keyMaterial, "x509-idp", "secret-box v1", 32));

export class SecretBox {
  readonly #key: Buffer;
  /** Earlier keys: what they sealed still opens, and is sealed again with the current key. */
  readonly #previous: Buffer[];

  constructor(keyMaterial: string | Uint8Array, previous: readonly (string | Uint8Array)[] = []) {
    this.#key = derive(keyMaterial);
    this.#previous = previous.map(derive);
  }

  /** Whether `value` is in the sealed form (what an older release stored in clear is not). */
  static isSealed(value: string): boolean {
    return value.startsWith(`${VERSION}.`);
  }

  seal(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString("base64url")}.${body.toString("base64url")}`;
  }

  open(sealed: string, context: string): string {
    return this.openWithKeyAge(sealed, context).value;
  }

  /** The secret, and whether it was sealed with a previous key (so it should be sealed again). */
  openWithKeyAge(sealed: string, context: string): { value: string; previousKey: boolean } {
    const [version, iv, body] = sealed.split(".");
    if (version !== VERSION || !iv || !body) throw new SecretBoxError("not a sealed secret");
    const bytes = Buffer.from(body, "base64url");
    if (bytes.length < TAG_BYTES) throw new SecretBoxError("not a sealed secret");
    for (const [i, key] of [this.#key, ...this.#previous].entries()) {
      const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      try {
        const value = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString("utf8");
        return { value, previousKey: i > 0 };
      } catch {
        // the next key
      }
    }
    throw new SecretBoxError("the secret does not decrypt: IDP_SECRET_KEY (or data/secret.key) is not the key it was stored with (set the old one as IDP_SECRET_KEY_PREVIOUS)");
  }
}

/**
 * The process's box: IDP_SECRET_KEY, or the key file in the data folder (created with a random key when missing);
 * `previous` (IDP_SECRET_KEY_PREVIOUS) still opens what an earlier key sealed.
 */
export function openSecretBox(secretKey: string | undefined, dataDir: string, previous: readonly string[] = []): SecretBox {
  if (secretKey) return new SecretBox(secretKey, previous);
  const file = path.join(dataDir, "secret.key");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another process created it first
    }
  }
  return new SecretBox(fs.readFileSync(file, "utf8").trim(), previous);
}
