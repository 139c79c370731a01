import { describe, expect, it } from "vitest";
import { parseRepresentation, realmSchema, ValidationError } from "../../src/admin/representation.ts";

const parse = (input: unknown) => parseRepresentation(realmSchema, input);
const failure = (input: unknown) => {
  try {
    parse(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).fields;
  }
  throw new Error("expected a validation error");
};

describe("realm representation", () => {
  it("fills Keycloak's defaults", () => {
    const r = parse({ realm: "acme", clients: [{ clientId: "app" }], users: [{ username: "Alice", email: "Alice@Example.ORG" }] });
    expect(r).toMatchObject({ enabled: true, loginWithEmailAllowed: true, accessTokenLifespan: 300, ssoSessionIdleTimeout: 1800, bruteForceProtected: true, defaultSignatureAlgorithm: "ES256" });
    expect(r.clients[0]).toMatchObject({ enabled: true, publicClient: false, standardFlowEnabled: true, directAccessGrantsEnabled: false, defaultClientScopes: ["profile", "email"] });
    expect(r.users[0]).toMatchObject({ username: "alice", email: "alice@example.org", enabled: true, attributes: {}, realmRoles: [] });
  });

  it("names the path of every bad field", () => {
    expect(failure({ realm: "", clients: [{ clientId: "a b", redirectUris: ["/rel"] }], users: [{ username: "x", credentials: [{ type: "otp" }] }] })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^realm: /),
        expect.stringMatching(/^clients\[0\]\.clientId: /),
        expect.stringMatching(/^clients\[0\]\.redirectUris\[0\]: /),
        expect.stringMatching(/^users\[0\]\.credentials\[0\]\.type: /),
      ]),
    );
  });

  it("refuses unknown fields instead of ignoring them", () => {
    expect(failure({ realm: "a", sslRequired: "external" })).toEqual([expect.stringContaining("sslRequired")]);
  });

  it("refuses inconsistent clients", () => {
    expect(failure({ realm: "a", clients: [{ clientId: "p", publicClient: true, secret: "s" }] })).toEqual([expect.stringMatching(/^clients\[0\]\.secret: a public client has no secret/)]);
    expect(failure({ realm: "a", clients: [{ clientId: "p", publicClient: true, serviceAccountsEnabled: true }] })).toEqual([expect.stringMatching(/serviceAccountsEnabled/)]);
    expect(failure({ realm: "a", clients: [{ clientId: "w", redirectUris: ["https://a.example/*/x"] }] })).toEqual([expect.stringMatching(/only at the end/)]);
  });

  it("refuses duplicates case-insensitively where the store is case-insensitive", () => {
    const fields = failure({ realm: "a", users: [{ username: "Bob" }, { username: "bob" }, { username: "c", email: "X@y.org" }, { username: "d", email: "x@Y.org" }] });
    expect(fields).toEqual(expect.arrayContaining([expect.stringMatching(/^users\[1\]/), expect.stringMatching(/^users\[3\]\.email/)]));
  });

  it("accepts an exported argon2id hash but not an arbitrary string", () => {
    const hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    expect(parse({ realm: "a", users: [{ username: "u", credentials: [{ type: "password", hash }] }] }).users[0]?.credentials?.[0]?.hash).toBe(hash);
    expect(failure({ realm: "a", users: [{ username: "u", credentials: [{ type: "password", hash: "plain" }] }] })).toEqual([expect.stringMatching(/credentials\[0\]\.hash/)]);
    expect(failure({ realm: "a", users: [{ username: "u", credentials: [{ type: "password" }] }] })).toEqual([expect.stringMatching(/exactly one of value or hash/)]);
  });
});
