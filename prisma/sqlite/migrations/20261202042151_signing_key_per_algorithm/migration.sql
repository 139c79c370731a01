-- Two nodes that created a realm's first keys at once left two keys of one algorithm and priority: the oldest keeps
-- signing, the others stay in the JWKS for verification only (priorities -1, -2, …).
UPDATE "SigningKey" SET "priority" = -(
  SELECT d."rn" FROM (SELECT "kid", ROW_NUMBER() OVER (PARTITION BY "realmId", "alg", "priority" ORDER BY "createdAt", "kid") - 1 AS "rn" FROM "SigningKey") AS d
  WHERE d."kid" = "SigningKey"."kid"
)
WHERE "kid" IN (SELECT "kid" FROM (SELECT "kid", ROW_NUMBER() OVER (PARTITION BY "realmId", "alg", "priority" ORDER BY "createdAt", "kid") - 1 AS "rn" FROM "SigningKey") WHERE "rn" > 0);

-- CreateIndex
CREATE UNIQUE INDEX "SigningKey_realmId_alg_priority_key" ON "SigningKey"("realmId", "alg", "priority");
