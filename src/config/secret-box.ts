// Secrets that must be read back (an LDAP bind credential), encrypted at rest: AES-256-GCM with a key derived by
// HKDF-SHA256 from IDP_SECRET_KEY, or, when that is not set, from a random key kept in IDP_DATA_DIR/secret.key
// (created on first start, mode 0600). The stored form is "v1.<iv>.<ciphertext+tag>" (base64url); the realm's id is
// the additional data, so a value copied into another realm does not decrypt.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {}

export class SecretBox {
  readonly #key: Buffer;

  constructor(keyMaterial: string | Uint8Array) {
    this.#key = Buffer.from(crypto.hkdfSync("sha256", keyMaterial, "x509-idp", "secret-box v1", 32));
  }

  seal(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString("base64url")}.${body.toString("base64url")}`;
  }

  open(sealed: string, context: string): string {
    const [version, iv, body] = sealed.split(".");
    if (version !== VERSION || !iv || !body) throw new SecretBoxError("not a sealed secret");
    const bytes = Buffer.from(body, "base64url");
    if (bytes.length < TAG_BYTES) throw new SecretBoxError("not a sealed secret");
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretBoxError("the secret does not decrypt: IDP_SECRET_KEY (or data/secret.key) is not the key it was stored with");
    }
  }
}

/** The process's box: IDP_SECRET_KEY, or the key file in the data folder (created with a random key when missing). */
export function openSecretBox(secretKey: string | undefined, dataDir: string): SecretBox {
  if (secretKey) return new SecretBox(secretKey);
  const file = path.join(dataDir, "secret.key");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another process created it first
    }
  }
  return new SecretBox(fs.readFileSync(file, "utf8").trim());
}
