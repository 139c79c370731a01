-- CreateTable
CREATE TABLE "Realm" (
    "id" TEXT NOT NULL,
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
    "defaultSignatureAlgorithm" TEXT NOT NULL DEFAULT 'ES256',
    "cookieKeys" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Realm_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Client" (
    "id" TEXT NOT NULL,
    "realmId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "name" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "publicClient" BOOLEAN NOT NULL DEFAULT false,
    "secretHash" TEXT,
    "tokenEndpointAuthMethod" TEXT NOT NULL DEFAULT 'client_secret_basic',
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
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Client_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "realmId" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "email" TEXT,
    "emailVerified" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "firstName" TEXT,
    "lastName" TEXT,
    "passwordHash" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UserAttribute" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "realmId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "UserAttribute_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UserRole" (
    "userId" TEXT NOT NULL,
    "role" TEXT NOT NULL,

    CONSTRAINT "UserRole_pkey" PRIMARY KEY ("userId","role")
);

-- CreateTable
CREATE TABLE "SigningKey" (
    "kid" TEXT NOT NULL,
    "realmId" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "privateJwk" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SigningKey_pkey" PRIMARY KEY ("kid")
);

-- CreateTable
CREATE TABLE "OidcPayload" (
    "realmId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "userCode" TEXT,
    "uid" TEXT,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),

    CONSTRAINT "OidcPayload_pkey" PRIMARY KEY ("realmId","model","id")
);

-- CreateTable
CREATE TABLE "Event" (
    "id" TEXT NOT NULL,
    "realmId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "clientId" TEXT,
    "userId" TEXT,
    "ipAddress" TEXT,
    "error" TEXT,
    "details" JSONB,
    "time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LoginFailure" (
    "realmId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "lastFailure" TIMESTAMP(3) NOT NULL,
    "lockedUntil" TIMESTAMP(3),

    CONSTRAINT "LoginFailure_pkey" PRIMARY KEY ("realmId","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "Realm_name_key" ON "Realm"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Client_realmId_clientId_key" ON "Client"("realmId", "clientId");

-- CreateIndex
CREATE UNIQUE INDEX "User_realmId_username_key" ON "User"("realmId", "username");

-- CreateIndex
CREATE UNIQUE INDEX "User_realmId_email_key" ON "User"("realmId", "email");

-- CreateIndex
CREATE INDEX "UserAttribute_realmId_name_value_idx" ON "UserAttribute"("realmId", "name", "value");

-- CreateIndex
CREATE INDEX "UserAttribute_userId_idx" ON "UserAttribute"("userId");

-- CreateIndex
CREATE INDEX "SigningKey_realmId_idx" ON "SigningKey"("realmId");

-- CreateIndex
CREATE INDEX "OidcPayload_realmId_grantId_idx" ON "OidcPayload"("realmId", "grantId");

-- CreateIndex
CREATE INDEX "OidcPayload_realmId_model_uid_idx" ON "OidcPayload"("realmId", "model", "uid");

-- CreateIndex
CREATE INDEX "OidcPayload_realmId_model_userCode_idx" ON "OidcPayload"("realmId", "model", "userCode");

-- CreateIndex
CREATE INDEX "OidcPayload_expiresAt_idx" ON "OidcPayload"("expiresAt");

-- CreateIndex
CREATE INDEX "Event_realmId_time_idx" ON "Event"("realmId", "time");

-- CreateIndex
CREATE INDEX "Event_realmId_type_time_idx" ON "Event"("realmId", "type", "time");

-- AddForeignKey
ALTER TABLE "Client" ADD CONSTRAINT "Client_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserAttribute" ADD CONSTRAINT "UserAttribute_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserRole" ADD CONSTRAINT "UserRole_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SigningKey" ADD CONSTRAINT "SigningKey_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OidcPayload" ADD CONSTRAINT "OidcPayload_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Event" ADD CONSTRAINT "Event_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LoginFailure" ADD CONSTRAINT "LoginFailure_realmId_fkey" FOREIGN KEY ("realmId") REFERENCES "Realm"("id") ON DELETE CASCADE ON UPDATE CASCADE;
