-- AlterTable
ALTER TABLE "Realm" ADD COLUMN     "x509" JSONB;
