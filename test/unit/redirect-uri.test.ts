import { describe, expect, it } from "vitest";
import { redirectUriMatches } from "../../src/oidc/clients.ts";

describe("redirect URI matching (Keycloak's wildcard rule, origin-safe)", () => {
  const registered = ["https://app.example.org/callback", "https://wild.example.org/app/*", "https://host.example.org*", "com.example.app:/oauth/*"];

  it.each([
    ["https://app.example.org/callback", true],
    ["https://app.example.org/callback?x=1", false],
    ["https://app.example.org/callback/", false],
    ["https://wild.example.org/app/", true],
    ["https://wild.example.org/app/a/b?c=d", true],
    ["https://wild.example.org/other", false],
    ["https://host.example.org/anything", true],
    ["https://host.example.org.evil.test/", false],
    ["https://host.example.org@evil.test/", false],
    ["http://wild.example.org/app/x", false],
    ["com.example.app:/oauth/redirect", true],
    ["not a url", false],
  ])("%s → %s", (value, allowed) => {
    expect(redirectUriMatches(registered, value)).toBe(allowed);
  });
});
