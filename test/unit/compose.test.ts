// docker-compose.yml must stay valid. There is no Docker engine here; `docker compose config` (or Debian's
// docker-compose 1.29) validates the file with the client alone. Its nginx configuration runs for real in
// test/services/proxies.test.ts.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const env = { ...process.env, IDP_DB_PASSWORD: "db-password", IDP_ADMIN_PASSWORD: "admin-password", IDP_LDAP_ADMIN_PASSWORD: "ldap-password" };

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

  it("runs the app on PostgreSQL and OpenLDAP, every service with a health check, data in volumes", async () => {
    const { stdout } = await compose(["config"]);
    expect(stdout).toMatch(/DATABASE_URL: postgresql:\/\/idp:db-password@db:5432\/idp/);
    expect(stdout).toMatch(/condition: service_healthy/);
    expect((await compose(["config", "--services"])).stdout.split("\n").filter(Boolean).sort()).toEqual(["db", "idp", "ldap", "nginx"]);
    expect((stdout.match(/healthcheck:/g) ?? []).length).toBe(4);
    for (const volume of ["db-data", "ldap-data", "ldap-config", "idp-data"]) expect(stdout).toContain(volume);
    expect(stdout).toMatch(/LDAP_ADMIN_PASSWORD: ldap-password/);
  });

  it("puts nginx in front: only nginx publishes a port, and x509-idp believes certificate headers from nginx's address alone", async () => {
    const { stdout } = await compose(["config"]);
    const service = (name: string) => {
      const start = stdout.indexOf(`\n  ${name}:\n`);
      const next = stdout.slice(start + 1).search(/\n  [a-z-]+:\n/);
      return stdout.slice(start, next < 0 ? undefined : start + 1 + next);
    };
    expect(service("idp")).toMatch(/IDP_X509_LOOKUP: nginx/);
    expect(service("idp")).not.toMatch(/ports:/);
    const trusted = /IDP_TRUSTED_PROXIES: (\S+)\/32/.exec(service("idp"))?.[1];
    expect(trusted).toBeDefined();
    expect(service("nginx")).toContain(`ipv4_address: ${trusted}`);
    expect(service("nginx")).toMatch(/published: 8443|8443:443/);
    expect(service("nginx")).toMatch(/deploy\/nginx\/x509-idp\.conf/);
  });

  it("refuses to start without the secrets it needs", async () => {
    await expect(compose(["config", "-q"], { IDP_DB_PASSWORD: undefined })).rejects.toThrow(/IDP_DB_PASSWORD/);
    await expect(compose(["config", "-q"], { IDP_LDAP_ADMIN_PASSWORD: undefined })).rejects.toThrow(/IDP_LDAP_ADMIN_PASSWORD/);
  });
});
