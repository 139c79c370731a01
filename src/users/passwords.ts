// argon2id password and client-secret hashing (@node-rs/argon2: prebuilt, runs on libuv's thread pool).
// Parameters are OWASP's 2024 minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { randomBytes } from "node:crypto";

// Algorithm is an ambient const enum (not importable as a value under verbatimModuleSyntax): 2 is Argon2id.
const ARGON2ID = 2 as Algorithm.Argon2id;
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Longest password accepted: argon2 takes any length, but a megabyte "password" is a denial-of-service attempt. */
export const MAX_PASSWORD_LENGTH = 1024;

export const hashPassword = (plain: string): Promise<string> => hash(plain, PARAMS);

export const isArgon2idHash = (s: string) => /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(s);

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
    return await verify(stored, plain);
  } catch {
    return false;
  }
}

/** A random secret for a new confidential client (256 bits, URL-safe). */
export const generateSecret = () => randomBytes(32).toString("base64url");
