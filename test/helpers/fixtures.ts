// Realms used by the integration tests, imported through the same use case as `x509-idp realm import`.
import { importRealm } from "../../src/admin/import.ts";
import type { TestServer } from "./server.ts";

export const REDIRECT = "https://app.example.test/callback";
export const LOGOUT_REDIRECT = "https://app.example.test/logged-out";
export const APP_SECRET = "app-secret-value";

export function acmeRealm(overrides: Record<string, unknown> = {}) {
  return {
    realm: "acme",
    displayName: "ACME Corp",
    clients: [
      {
        clientId: "web-app",
        secret: APP_SECRET,
        redirectUris: [REDIRECT, "https://wild.example.test/app/*"],
        postLogoutRedirectUris: [LOGOUT_REDIRECT],
        directAccessGrantsEnabled: true,
        serviceAccountsEnabled: true,
      },
      { clientId: "spa", publicClient: true, redirectUris: [REDIRECT] },
      { clientId: "no-direct", secret: APP_SECRET, redirectUris: [REDIRECT] },
      { clientId: "consent-app", secret: APP_SECRET, redirectUris: [REDIRECT], consentRequired: true },
    ],
    users: [
      { username: "alice", email: "Alice@Example.org", emailVerified: true, firstName: "Alice", lastName: "Liddell", credentials: [{ type: "password", value: "alice-password" }], attributes: { employeeNumber: ["1001"] } },
      { username: "bob", email: "bob@example.org", credentials: [{ type: "password", value: "bob-password" }] },
      { username: "carol", enabled: false, credentials: [{ type: "password", value: "carol-password" }] },
    ],
    ...overrides,
  };
}

export async function seedAcme(server: TestServer, overrides: Record<string, unknown> = {}): Promise<void> {
  await importRealm(server.started.services.db.prisma, acmeRealm(overrides));
  server.started.services.registry.invalidate("acme");
}
