-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_LoginFailure" (
    "realmId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "lastFailure" DATETIME NOT NULL,
    "lockedUntil" DATETIME,
    "lastIp" TEXT,
    "temporaryLockouts" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("realmId", "key"),
    CONSTRAINT "LoginFailure_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_LoginFailure" ("failures", "key", "lastFailure", "lockedUntil", "realmId") SELECT "failures", "key", "lastFailure", "lockedUntil", "realmId" FROM "LoginFailure";
DROP TABLE "LoginFailure";
ALTER TABLE "new_LoginFailure" RENAME TO "LoginFailure";
CREATE TABLE "new_Realm" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "displayName" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "loginWithEmailAllowed" BOOLEAN NOT NULL DEFAULT true,
    "accessTokenLifespan" INTEGER NOT NULL DEFAULT 300,
    "accessCodeLifespan" INTEGER NOT NULL DEFAULT 60,
    "accessCodeLifespanLogin" INTEGER NOT NULL DEFAULT 1800,
    "ssoSessionIdleTimeout" INTEGER NOT NULL DEFAULT 1800,
    "ssoSessionMaxLifespan" INTEGER NOT NULL DEFAULT 36000,
    "bruteForceProtected" BOOLEAN NOT NULL DEFAULT true,
    "failureFactor" INTEGER NOT NULL DEFAULT 10,
    "waitIncrementSeconds" INTEGER NOT NULL DEFAULT 60,
    "maxFailureWaitSeconds" INTEGER NOT NULL DEFAULT 900,
    "maxDeltaTimeSeconds" INTEGER NOT NULL DEFAULT 43200,
    "permanentLockout" BOOLEAN NOT NULL DEFAULT false,
    "maxTemporaryLockouts" INTEGER NOT NULL DEFAULT 0,
    "ipFailureFactor" INTEGER,
    "defaultSignatureAlgorithm" TEXT NOT NULL DEFAULT 'ES256',
    "cookieKeys" TEXT NOT NULL,
    "x509" JSONB,
    "ldap" JSONB,
    "ldapBindCredential" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Realm" ("accessCodeLifespan", "accessCodeLifespanLogin", "accessTokenLifespan", "bruteForceProtected", "cookieKeys", "createdAt", "defaultSignatureAlgorithm", "displayName", "enabled", "failureFactor", "id", "ldap", "ldapBindCredential", "loginWithEmailAllowed", "maxDeltaTimeSeconds", "maxFailureWaitSeconds", "name", "ssoSessionIdleTimeout", "ssoSessionMaxLifespan", "updatedAt", "waitIncrementSeconds", "x509") SELECT "accessCodeLifespan", "accessCodeLifespanLogin", "accessTokenLifespan", "bruteForceProtected", "cookieKeys", "createdAt", "defaultSignatureAlgorithm", "displayName", "enabled", "failureFactor", "id", "ldap", "ldapBindCredential", "loginWithEmailAllowed", "maxDeltaTimeSeconds", "maxFailureWaitSeconds", "name", "ssoSessionIdleTimeout", "ssoSessionMaxLifespan", "updatedAt", "waitIncrementSeconds", "x509" FROM "Realm";
DROP TABLE "Realm";
ALTER TABLE "new_Realm" RENAME TO "Realm";
CREATE UNIQUE INDEX "Realm_name_key" ON "Realm"("name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
