// A Keycloak export's client attribute access.token.format: "opaque" carries over; anything else leaves the default
// (JWT access tokens, as Keycloak issues them), and Keycloak's other attributes are not copied.
import { describe, expect, it } from "vitest";
import { convertKeycloakRealm } from "../../src/admin/keycloak-import.ts";
import { parseRepresentation, realmSchema } from "../../src/admin/representation.ts";

const exportWith = (attributes: Record<string, string>) => ({
  realm: "corp",
  clients: [{ clientId: "app", secret: "s3cret", protocol: "openid-connect", redirectUris: ["https://app.example/cb"], attributes: { "post.logout.redirect.uris": "https://app.example/bye", "pkce.code.challenge.method": "S256", ...attributes } }],
});
const clientOf = (k: unknown) => (convertKeycloakRealm(k).realm.clients as Record<string, unknown>[])[0] as Record<string, unknown>;

describe("Keycloak import: a client's access token format", () => {
  it("access.token.format opaque is kept, and the converted realm is valid", () => {
    const client = clientOf(exportWith({ "access.token.format": "opaque" }));
    expect(client.attributes).toEqual({ "access.token.format": "opaque" });
    expect(() => parseRepresentation(realmSchema, convertKeycloakRealm(exportWith({ "access.token.format": "opaque" })).realm)).not.toThrow();
  });

  it("without it (or with another value) the client gets JWT access tokens; other attributes are not copied", () => {
    expect(clientOf(exportWith({})).attributes).toBeUndefined();
    expect(clientOf(exportWith({ "access.token.format": "jwt" })).attributes).toBeUndefined();
    expect(() => parseRepresentation(realmSchema, convertKeycloakRealm(exportWith({})).realm)).not.toThrow();
  });
});
