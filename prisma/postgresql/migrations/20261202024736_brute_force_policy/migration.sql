-- AlterTable
ALTER TABLE "LoginFailure" ADD COLUMN     "lastIp" TEXT,
ADD COLUMN     "temporaryLockouts" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Realm" ADD COLUMN     "ipFailureFactor" INTEGER,
ADD COLUMN     "maxTemporaryLockouts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "permanentLockout" BOOLEAN NOT NULL DEFAULT false;
