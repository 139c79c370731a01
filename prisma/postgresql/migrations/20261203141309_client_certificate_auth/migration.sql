-- AlterTable
ALTER TABLE "Client" ADD COLUMN     "attributes" JSONB,
ADD COLUMN     "clientAuthenticatorType" TEXT NOT NULL DEFAULT 'client-secret',
ADD COLUMN     "jwks" JSONB;
