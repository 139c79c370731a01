-- AlterTable
ALTER TABLE "Realm" ADD COLUMN     "ldap" JSONB,
ADD COLUMN     "ldapBindCredential" TEXT;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "federationLink" TEXT,
ADD COLUMN     "ldapId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "User_realmId_ldapId_key" ON "User"("realmId", "ldapId");
