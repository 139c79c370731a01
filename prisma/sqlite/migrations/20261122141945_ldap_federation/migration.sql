-- AlterTable
ALTER TABLE "Realm" ADD COLUMN "ldap" JSONB;
ALTER TABLE "Realm" ADD COLUMN "ldapBindCredential" TEXT;

-- AlterTable
ALTER TABLE "User" ADD COLUMN "federationLink" TEXT;
ALTER TABLE "User" ADD COLUMN "ldapId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "User_realmId_ldapId_key" ON "User"("realmId", "ldapId");
