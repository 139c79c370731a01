// Client secrets against their argon2id hash: a verified secret is remembered, a wrong one never is, and the same
// secret arriving on many requests at once is verified once (no argon2 stampede when a busy client starts).
import { verify } from "@node-rs/argon2";
import { describe, expect, it } from "vitest";
import { compareHashedSecret } from "../../src/oidc/clients.ts";
import { hashPassword } from "../../src/users/passwords.ts";

/** The real argon2 verification, counted. */
function counted() {
  const calls = { n: 0 };
  return { calls, verifyHash: (hash: string, presented: string) => { calls.n++; return verify(hash, presented); } };
}

describe("client secret verification", () => {
  it("verifies the same secret arriving on 20 requests at once only once, and remembers it", async () => {
    const hash = await hashPassword("right-secret");
    const { calls, verifyHash } = counted();
    const answers = await Promise.all(Array.from({ length: 20 }, () => compareHashedSecret(hash, "right-secret", verifyHash)));
    expect(answers.every(Boolean)).toBe(true);
    expect(calls.n).toBe(1);
    expect(await compareHashedSecret(hash, "right-secret", verifyHash)).toBe(true);
    expect(calls.n).toBe(1);
  });

  it("a wrong secret is never remembered: each later guess costs a verification; guesses at once share one", async () => {
    const hash = await hashPassword("right-secret");
    const { calls, verifyHash } = counted();
    const at = await Promise.all(Array.from({ length: 5 }, () => compareHashedSecret(hash, "wrong", verifyHash)));
    expect(at.some(Boolean)).toBe(false);
    expect(calls.n).toBe(1);
    expect(await compareHashedSecret(hash, "wrong", verifyHash)).toBe(false);
    expect(await compareHashedSecret(hash, "wrong", verifyHash)).toBe(false);
    expect(calls.n).toBe(3);
    // Another secret against the same hash is its own verification.
    expect(await compareHashedSecret(hash, "right-secret", verifyHash)).toBe(true);
    expect(calls.n).toBe(4);
  });

  it("refuses without verifying: no hash, an empty or oversized secret", async () => {
    const { calls, verifyHash } = counted();
    expect(await compareHashedSecret(undefined, "x", verifyHash)).toBe(false);
    expect(await compareHashedSecret("$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", "", verifyHash)).toBe(false);
    expect(await compareHashedSecret("$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", "x".repeat(1025), verifyHash)).toBe(false);
    expect(calls.n).toBe(0);
  });
});
