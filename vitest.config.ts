import { defineConfig } from "vitest/config";

// Four projects: the framework-free unit tests; tests against real servers other than the database (slapd, openssl
// ocsp, HTTP servers, started by the tests); and the integration suite twice, once on SQLite and once on PostgreSQL
// (a fresh database per test file; test/global-setup.ts drops them at the end of the run).
export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: "forks",
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { name: "services", include: ["test/services/**/*.test.ts"] } },
      { test: { name: "sqlite", include: ["test/integration/**/*.test.ts"], env: { TEST_DB: "sqlite" } } },
      { test: { name: "postgres", include: ["test/integration/**/*.test.ts"], env: { TEST_DB: "postgres" } } },
    ],
  },
});
