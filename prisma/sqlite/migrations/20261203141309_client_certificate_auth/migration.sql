-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Client" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "realmId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "name" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "publicClient" BOOLEAN NOT NULL DEFAULT false,
    "secretHash" TEXT,
    "tokenEndpointAuthMethod" TEXT NOT NULL DEFAULT 'client_secret_basic',
    "clientAuthenticatorType" TEXT NOT NULL DEFAULT 'client-secret',
    "attributes" JSONB,
    "jwks" JSONB,
    "redirectUris" JSONB NOT NULL,
    "postLogoutRedirectUris" JSONB NOT NULL,
    "webOrigins" JSONB NOT NULL,
    "defaultClientScopes" JSONB NOT NULL,
    "optionalClientScopes" JSONB NOT NULL,
    "standardFlowEnabled" BOOLEAN NOT NULL DEFAULT true,
    "directAccessGrantsEnabled" BOOLEAN NOT NULL DEFAULT false,
    "serviceAccountsEnabled" BOOLEAN NOT NULL DEFAULT false,
    "consentRequired" BOOLEAN NOT NULL DEFAULT false,
    "idTokenSignedResponseAlg" TEXT,
    "accessTokenFormat" TEXT NOT NULL DEFAULT 'jwt',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Client_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Client" ("accessTokenFormat", "clientId", "consentRequired", "createdAt", "defaultClientScopes", "directAccessGrantsEnabled", "enabled", "id", "idTokenSignedResponseAlg", "name", "optionalClientScopes", "postLogoutRedirectUris", "publicClient", "realmId", "redirectUris", "secretHash", "serviceAccountsEnabled", "standardFlowEnabled", "tokenEndpointAuthMethod", "updatedAt", "webOrigins") SELECT "accessTokenFormat", "clientId", "consentRequired", "createdAt", "defaultClientScopes", "directAccessGrantsEnabled", "enabled", "id", "idTokenSignedResponseAlg", "name", "optionalClientScopes", "postLogoutRedirectUris", "publicClient", "realmId", "redirectUris", "secretHash", "serviceAccountsEnabled", "standardFlowEnabled", "tokenEndpointAuthMethod", "updatedAt", "webOrigins" FROM "Client";
DROP TABLE "Client";
ALTER TABLE "new_Client" RENAME TO "Client";
CREATE UNIQUE INDEX "Client_realmId_clientId_key" ON "Client"("realmId", "clientId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
