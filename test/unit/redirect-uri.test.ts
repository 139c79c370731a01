// Redirect URI matching: Keycloak's wildcard rule on a normalised URL, never across origins, and nothing that could be
// read two ways (RFC 6749 §3.1.2, RFC 9700 §4.1; issue #11, item 2).
import { describe, expect, it } from "vitest";
import { isUnambiguousUri, redirectUriMatches } from "../../src/realms/redirect-uri.ts";

const registered = ["https://app.example.org/callback", "https://wild.test/cb/*", "https://host.example.org*", "com.example.app:/oauth/*"];

describe("redirect URI matching (Keycloak's wildcard rule, origin-safe)", () => {
  it.each([
    ["https://app.example.org/callback", true],
    ["https://app.example.org/callback?x=1", false],
    ["https://app.example.org/callback/", false],
    ["https://wild.test/cb/", true],
    ["https://wild.test/cb/x", true],
    ["https://wild.test/cb/a/b?c=d", true],
    ["https://wild.test/cb", true], // Keycloak: the wildcard's prefix without its trailing slash
    ["https://WILD.test/cb/x", true], // host names are case-insensitive
    ["https://wild.test:443/cb/x", true], // the default port
    ["https://wild.test/cb/x?next=%2F..%2Fevil", true], // the query is data, not a path
    ["https://wild.test/cb/a.b/..c/x../.x", true], // dots that are not dot segments
    ["https://wild.test/cbx", false],
    ["https://wild.test/other", false],
    ["https://host.example.org/anything", true],
    ["com.example.app:/oauth/redirect", true],
    ["not a url", false],
  ])("%s → %s", (value, allowed) => {
    expect(redirectUriMatches(registered, value)).toBe(allowed);
  });
});

describe("redirect URIs that could be read two ways are refused, whatever is registered", () => {
  it.each([
    // dot segments, raw and percent-encoded (once, twice, mixed case, half encoded)
    "https://wild.test/cb/../../evil",
    "https://wild.test/cb/..",
    "https://wild.test/cb/./x",
    "https://wild.test/cb/%2e%2e/%2e%2e/evil",
    "https://wild.test/cb/%2E%2E/evil",
    "https://wild.test/cb/.%2e/evil",
    "https://wild.test/cb/%2e./evil",
    "https://wild.test/cb/%2e/x",
    "https://wild.test/cb/%252e%252e/%252e%252e/evil",
    "https://wild.test/cb/%25252e%25252e/evil",
    "com.example.app:/oauth/../evil",
    // encoded slashes and backslashes
    "https://wild.test/cb/..%2fevil",
    "https://wild.test/cb/x%2F..%2F..%2Fevil",
    "https://wild.test/cb/x%252f..%252fevil",
    "https://wild.test/cb/..%5cevil",
    "https://wild.test/cb/..\\evil",
    "https://wild.test/cb\\..\\..\\evil",
    // fragments
    "https://wild.test/cb/x#frag",
    "https://app.example.org/callback#frag",
    "https://wild.test/cb/x%23frag%2f..",
    // characters URL parsers drop or fold
    "https://wild.test/cb/.\t./evil",
    "https://wild.test/cb/.%09./evil",
    "https://wild.test/cb/\n../evil",
    "https://wild.test/cb/x y",
    // malformed or endlessly encoded
    "https://wild.test/cb/%",
    "https://wild.test/cb/%E0%A4%A",
    `https://wild.test/cb/${"%25".repeat(6)}2e`,
    // userinfo
    "https://wild.test@evil.test/cb/x",
    "https://user@wild.test/cb/x",
    "https://user:pw@wild.test/cb/x",
    "https://host.example.org@evil.test/",
  ])("%s", (value) => {
    expect(redirectUriMatches(registered, value)).toBe(false);
    expect(redirectUriMatches([value, `${value}*`], value)).toBe(false);
  });

  it.each([
    // look-alikes that never matched: another port, a suffix host, another scheme
    "https://wild.test:444/cb/x",
    "https://wild.test.evil.test/cb/x",
    "https://host.example.org.evil.test/",
    "http://wild.test/cb/x",
  ])("look-alike %s", (value) => {
    expect(redirectUriMatches(registered, value)).toBe(false);
  });

  it("the same rule decides which URIs a client may register", () => {
    expect(isUnambiguousUri("https://wild.test/cb/")).toBe(true);
    expect(isUnambiguousUri("https://wild.test/cb/../x")).toBe(false);
    expect(isUnambiguousUri("https://wild.test/cb#x")).toBe(false);
  });
});
