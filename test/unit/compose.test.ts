// docker-compose.yml must stay valid. There is no Docker engine here; `docker compose config` (or Debian's
// docker-compose 1.29) validates the file with the client alone.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const env = { ...process.env, IDP_DB_PASSWORD: "db-password", IDP_ADMIN_PASSWORD: "admin-password" };

// The Compose v2 plugin when the docker client has it, otherwise Debian's docker-compose (.ci/run installs it).
const v2 = run("docker", ["compose", "version"]).then(() => true, () => false);

async function compose(args: string[], extraEnv: Record<string, string | undefined> = {}) {
  const options = { cwd: root, env: { ...env, ...extraEnv } };
  return (await v2) ? run("docker", ["compose", ...args], options) : run("docker-compose", args, options);
}

describe("docker-compose.yml", () => {
  it("is valid", async () => {
    await expect(compose(["config", "-q"])).resolves.toBeDefined();
  });

  it("runs the app on PostgreSQL with health checks and persistent volumes", async () => {
    const { stdout } = await compose(["config"]);
    expect(stdout).toMatch(/DATABASE_URL: postgresql:\/\/idp:db-password@db:5432\/idp/);
    expect(stdout).toMatch(/condition: service_healthy/);
    expect((stdout.match(/healthcheck:/g) ?? []).length).toBe(2);
    expect(stdout).toMatch(/db-data/);
    expect(stdout).toMatch(/idp-data/);
  });

  it("refuses to start without the secrets it needs", async () => {
    await expect(compose(["config", "-q"], { IDP_DB_PASSWORD: undefined })).rejects.toThrow(/IDP_DB_PASSWORD/);
  });
});
