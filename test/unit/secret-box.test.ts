// Stored secrets (LDAP bind credentials): AES-256-GCM with a key from IDP_SECRET_KEY or the data folder's key file.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSecretBox, SecretBox, SecretBoxError } from "../../src/config/secret-box.ts";
import { loadSettings, SettingsError } from "../../src/config/env.ts";

const KEY = "a-test-key-of-at-least-thirty-two-characters";

describe("SecretBox", () => {
  it("seals and opens a secret; the sealed form does not contain it and differs each time", () => {
    const box = new SecretBox(KEY);
    const a = box.seal("the credential", "realm-1");
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain("credential");
    expect(box.seal("the credential", "realm-1")).not.toBe(a);
    expect(box.open(a, "realm-1")).toBe("the credential");
  });

  it("refuses another realm's value, another key, a tampered value and garbage", () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal("s3cret", "realm-1");
    expect(() => box.open(sealed, "realm-2")).toThrow(SecretBoxError);
    expect(() => new SecretBox(`${KEY}!`).open(sealed, "realm-1")).toThrow(/IDP_SECRET_KEY/);
    const [v, iv, body] = sealed.split(".") as [string, string, string];
    const flipped = Buffer.from(body, "base64url");
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(() => box.open(`${v}.${iv}.${flipped.toString("base64url")}`, "realm-1")).toThrow(SecretBoxError);
    for (const bad of ["", "v1", "v2.a.b", "v1.a.", "v1.AAAA.AA"]) expect(() => box.open(bad, "realm-1"), bad).toThrow(SecretBoxError);
  });

  it("opens what a previous key sealed, says so, and seals with the current key only", () => {
    const old = new SecretBox(`${KEY}-old`);
    const sealed = old.seal("signing key", "ctx");
    const rotated = new SecretBox(KEY, [`${KEY}-old`]);
    expect(rotated.openWithKeyAge(sealed, "ctx")).toEqual({ value: "signing key", previousKey: true });
    const again = rotated.seal("signing key", "ctx");
    expect(rotated.openWithKeyAge(again, "ctx")).toEqual({ value: "signing key", previousKey: false });
    expect(() => old.open(again, "ctx")).toThrow(/IDP_SECRET_KEY_PREVIOUS/);
    expect(SecretBox.isSealed(again)).toBe(true);
    expect(SecretBox.isSealed('{"kty":"EC"}')).toBe(false);
  });

  it("without IDP_SECRET_KEY, keeps a random key in the data folder (mode 600) and reuses it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "x509idp-box-"));
    try {
      const sealed = openSecretBox(undefined, dir).seal("x", "r");
      const file = path.join(dir, "secret.key");
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(openSecretBox(undefined, dir).open(sealed, "r")).toBe("x");
      expect(() => openSecretBox(KEY, dir).open(sealed, "r")).toThrow(SecretBoxError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("IDP_SECRET_KEY must be at least 32 characters", () => {
    expect(() => loadSettings({ IDP_SECRET_KEY: "short" })).toThrow(SettingsError);
    expect(() => loadSettings({ IDP_SECRET_KEY: "short" })).toThrow(/IDP_SECRET_KEY: at least 32 characters/);
    expect(loadSettings({ IDP_SECRET_KEY: KEY }).secretKey).toBe(KEY);
  });
});
