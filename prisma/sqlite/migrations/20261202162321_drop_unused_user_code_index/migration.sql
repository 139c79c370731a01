-- DropIndex
DROP INDEX "OidcPayload_realmId_model_userCode_idx";
