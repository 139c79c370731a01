-- AlterTable
ALTER TABLE "Client" ADD COLUMN     "accessTokenFormat" TEXT NOT NULL DEFAULT 'jwt';
