import { defineConfig } from "prisma/config";

// No network here: the CLI would download the Rust schema engine at start-up. `prisma generate` never runs
// it; pointing it at /bin/false makes `prisma migrate …` fail loudly instead of pretending to succeed.
// Migrations are applied by src/db/migrate.ts and authored by scripts/new-migration.ts.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";

const provider = process.env.DB_PROVIDER === "postgresql" ? "postgresql" : "sqlite";

export default defineConfig({
  schema: `prisma/${provider}`,
  migrations: { path: `prisma/${provider}/migrations` },
  datasource: { url: process.env.DATABASE_URL ?? "file:./data/idp.db" },
});
