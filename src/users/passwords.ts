// argon2id password and client-secret hashing (@node-rs/argon2: prebuilt, runs on libuv's thread pool).
// Parameters are OWASP's 2024 minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
//
// Hashes imported from Keycloak are verified as they are: argon2 (any variant and parameters, as PHC strings) and
// PBKDF2 (Keycloak's pbkdf2, pbkdf2-sha256, pbkdf2-sha512, stored as "$pbkdf2-sha256$i=27500$salt$hash"). A
// successful login replaces such a hash with a current argon2id one (needsRehash).
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

// Algorithm is an ambient const enum (not importable as a value under verbatimModuleSyntax): 2 is Argon2id.
const ARGON2ID = 2 as Algorithm.Argon2id;
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Longest password accepted: argon2 takes any length, but a megabyte "password" is a denial-of-service attempt. */
export const MAX_PASSWORD_LENGTH = 1024;

export const hashPassword = (plain: string): Promise<string> => hash(plain, PARAMS);

export const isArgon2idHash = (s: string) => /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(s);

const ARGON2_ANY = /^\$argon2(id|i|d)\$v=(16|19)\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const PBKDF2 = /^\$pbkdf2-(sha1|sha256|sha512)\$i=(\d{1,7})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** A hash x509-idp can verify: its own argon2id, or one imported from Keycloak (argon2 of any kind, PBKDF2). */
export const isVerifiableHash = (s: string) => ARGON2_ANY.test(s) || PBKDF2.test(s);

/** Whether a hash should be replaced by a current argon2id hash after the next successful login. */
export function needsRehash(stored: string): boolean {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=\d+\$/.exec(stored);
  return !m || Number(m[1]) < PARAMS.memoryCost || Number(m[2]) < PARAMS.timeCost;
}

const pbkdf2Async = promisify(pbkdf2);

async function verifyPbkdf2(m: RegExpExecArray, plain: string): Promise<boolean> {
  const [, digest, iterations, salt, expected] = m as unknown as [string, string, string, string, string];
  const want = Buffer.from(expected, "base64");
  if (Number(iterations) < 1 || want.length < 16 || want.length > 128) return false;
  const got = await pbkdf2Async(plain, Buffer.from(salt, "base64"), Number(iterations), want.length, digest);
  return timingSafeEqual(got, want);
}

// Verifying against a real hash when the user does not exist keeps the response time from revealing whether it does.
let dummy: Promise<string> | undefined;

/** True when `plain` matches `stored`; a missing hash still costs one verification. */
export async function verifyPassword(stored: string | null | undefined, plain: string): Promise<boolean> {
  if (plain.length === 0 || plain.length > MAX_PASSWORD_LENGTH) return false;
  if (!stored) {
    dummy ??= hashPassword(randomBytes(16).toString("hex"));
    await verify(await dummy, plain).catch(() => false);
    return false;
  }
  try {
    const p = PBKDF2.exec(stored);
    return p ? await verifyPbkdf2(p, plain) : await verify(stored, plain);
  } catch {
    return false;
  }
}

/** A random secret for a new confidential client (256 bits, URL-safe). */
export const generateSecret = () => randomBytes(32).toString("base64url");
