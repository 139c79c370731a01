// The real `x509-idp serve` process, as a newcomer runs it: it prints the administrator's password once and a curl
// command for the demo realm that works exactly as printed, and stops cleanly on SIGTERM. Start-up mistakes are
// one clear line, no stack trace.
import { execFile } from "node:child_process";
import net from "node:net";
import { promisify } from "node:util";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.ts";
import { freshDatabase, testDbKind, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/server.ts";
import { serveProcess } from "../helpers/serve-process.ts";

const sh = promisify(execFile);
const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

const serve = (db: TestDatabase, port: number, env: Record<string, string> = {}) =>
  serveProcess(db, { cwd: path.dirname(db.dataDir), env: { IDP_HTTPS_PORT: String(port), IDP_LOG_LEVEL: "info", ...env } });

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("x509-idp serve", () => {
  it("prints working curl commands for the demo realm (password, user certificate, service certificate) and the admin password once, and stops on SIGTERM", async () => {
    const db = await freshDatabase();
    dbs.push(db);
    const port = await freePort();
    const first = serve(db, port);
    await until(() => first.output().includes("redirect_uri="), "the start-up banner");
    const banner = first.output();
    const adminPassword = /password \(shown once\): (\S+)/.exec(banner)?.[1];
    expect(adminPassword).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const curl = banner.slice(banner.indexOf("  curl ")).split("\n").slice(0, 3).join("\n");
    expect(curl).toContain(`https://localhost:${port}/realms/demo/protocol/openid-connect/token`);
    // Exactly as printed, in the folder the server was started from.
    const { stdout } = await sh("sh", ["-c", curl], { cwd: path.dirname(db.dataDir) });
    const tokens = JSON.parse(stdout) as Record<string, string>;
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.id_token).toBeTruthy();
    // The demo user's certificate: a direct grant over mutual TLS, no password, as printed.
    const certCurl = banner.slice(banner.indexOf("  curl -s --cacert", banner.indexOf("client certificate"))).split("\n").slice(0, 2).join("\n");
    expect(certCurl).toMatch(/--cert \S+demo-pki\/demo\.crt --key \S+demo-pki\/demo\.key/);
    const byCert = JSON.parse((await sh("sh", ["-c", certCurl], { cwd: path.dirname(db.dataDir) })).stdout) as Record<string, string>;
    expect(byCert.access_token, JSON.stringify(byCert)).toBeTruthy();
    const idToken = JSON.parse(Buffer.from((byCert.id_token as string).split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
    expect(idToken).toMatchObject({ amr: ["x509"], preferred_username: "demo" });
    // The .p12 opens with the printed password and holds the same certificate.
    const p12 = /import (\S+demo\.p12) \(password (\S+)\)/.exec(banner);
    const fromP12 = await sh("openssl", ["pkcs12", "-in", path.resolve(path.dirname(db.dataDir), p12?.[1] ?? ""), "-passin", `pass:${p12?.[2]}`, "-nokeys", "-clcerts"]);
    expect(fromP12.stdout).toContain("subject=CN = demo, emailAddress = demo@example.org, O = x509-idp demo");
    // The demo service: client credentials with its certificate alone (tls_client_auth), as printed.
    const serviceCurl = banner.slice(banner.indexOf("  curl -s --cacert", banner.indexOf("certificate alone"))).split("\n").slice(0, 2).join("\n");
    expect(serviceCurl).toMatch(/--cert \S+demo-pki\/demo-service\.crt --key \S+demo-pki\/demo-service\.key .* \\\n\s+-d grant_type=client_credentials -d client_id=demo-service$/);
    const service = JSON.parse((await sh("sh", ["-c", serviceCurl], { cwd: path.dirname(db.dataDir) })).stdout) as Record<string, string>;
    expect(service.access_token, JSON.stringify(service)).toBeTruthy();
    const serviceToken = JSON.parse(Buffer.from((service.access_token as string).split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
    expect(serviceToken).toMatchObject({ azp: "demo-service", cnf: { "x5t#S256": expect.any(String) } });

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const second = serve(db, port);
    await until(() => second.output().includes("redirect_uri="), "the second start-up banner");
    expect(second.output()).not.toContain("shown once");
    const admin = await sh("curl", ["-s", "--cacert", path.join(db.dataDir, "tls/ca.crt"), `https://localhost:${port}/realms/master/protocol/openid-connect/token`,
      "-d", "grant_type=password", "-d", "client_id=admin-cli", "-d", "username=admin", "-d", `password=${adminPassword}`]);
    expect(JSON.parse(admin.stdout).access_token).toBeTruthy();
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("x509-idp demo sets up certificate login for a demo realm, and what it prints works", async () => {
    const db = await freshDatabase();
    dbs.push(db);
    const port = await freePort();
    const env = { IDP_HTTPS_PORT: String(port), IDP_PUBLIC_URL: `https://localhost:${port}`, IDP_DEMO: "false" };
    const demo = await runCli(db, ["demo"], { env });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain("--cert ");
    const again = await runCli(db, ["demo"], { env }); // idempotent
    expect(again.code, again.stderr).toBe(0);
    const running = serve(db, port, { IDP_DEMO: "false" });
    await until(() => running.output().includes("listening"), "the start-up banner");
    const certCurl = again.stdout.slice(again.stdout.indexOf("  curl -s --cacert", again.stdout.indexOf("client certificate"))).split("\n").slice(0, 2).join("\n");
    const tokens = JSON.parse((await sh("sh", ["-c", certCurl], { cwd: ROOT })).stdout) as Record<string, string>;
    expect(tokens.access_token, JSON.stringify(tokens)).toBeTruthy();
    running.child.kill("SIGTERM");
    expect(await running.exited).toBe(0);
  });

  it("x509-idp migrate applies pending migrations once", async () => {
    const db = await freshDatabase();
    dbs.push(db);
    const first = await runCli(db, ["migrate"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).applied).toEqual([expect.stringMatching(/^\d{14}_init$/), expect.stringMatching(/^\d{14}_realm_x509$/), expect.stringMatching(/^\d{14}_ldap_federation$/), expect.stringMatching(/^\d{14}_brute_force_policy$/), expect.stringMatching(/^\d{14}_signing_key_per_algorithm$/), expect.stringMatching(/^\d{14}_client_access_token_format$/), expect.stringMatching(/^\d{14}_drop_unused_user_code_index$/), expect.stringMatching(/^\d{14}_client_certificate_auth$/)]);
    const second = await runCli(db, ["migrate"]);
    expect(JSON.parse(second.stdout)).toEqual({ applied: [] });
  });

  it("reports configuration mistakes in one line and exits 2", async () => {
    const db = await freshDatabase();
    dbs.push(db);
    const bad = await runCli(db, ["serve"], { env: { IDP_HTTPS_PORT: "eighty" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("IDP_HTTPS_PORT");
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const blocker = net.createServer();
    const port = await new Promise<number>((r) => blocker.listen(0, "127.0.0.1", () => r((blocker.address() as net.AddressInfo).port)));
    const busy = await runCli(db, ["serve"], { env: { IDP_HTTPS_PORT: String(port), IDP_HOST: "127.0.0.1" } });
    blocker.close();
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`127.0.0.1:${port} is already in use (IDP_HTTPS_PORT)`);

    const nodb = await runCli(db, ["migrate"], { env: { DATABASE_URL: "postgresql://postgres:secret@127.0.0.1:5432/x509idp_no_such_database" } });
    expect(nodb.code).toBe(2);
    expect(nodb.stderr).toContain("x509idp_no_such_database");
    expect(nodb.stderr).toContain("DATABASE_URL");
    expect(nodb.stderr).not.toContain("secret");
  });
});

describe.skipIf(testDbKind !== "sqlite")("one server per SQLite database", () => {
  it("a second server on the same data folder refuses to start, naming the folder and the first; after the first stops it starts", async () => {
    const db = await freshDatabase("sqlite");
    dbs.push(db);
    const first = serve(db, await freePort(), { IDP_DEMO: "false" });
    await until(() => first.output().includes("listening on"), "the first server");
    const second = serve(db, await freePort(), { IDP_DEMO: "false" });
    expect(await second.exited).toBe(2);
    expect(second.output()).toMatch(new RegExp(`another x509-idp \\(pid ${first.child.pid} on .*, serving since .*\\) serves the SQLite database ${db.url.replace(/^file:/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(second.output()).not.toMatch(/\n\s+at /);
    // CLI tools work beside the running server.
    expect((await runCli(db, ["realm", "list"])).code).toBe(0);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const third = serve(db, await freePort(), { IDP_DEMO: "false" });
    await until(() => third.output().includes("listening on"), "the third server");
    third.child.kill("SIGKILL"); // a crash leaves no stale lock
    await third.exited;
    const fourth = serve(db, await freePort(), { IDP_DEMO: "false" });
    await until(() => fourth.output().includes("listening on"), "a server after a crash");
    fourth.child.kill("SIGTERM");
    expect(await fourth.exited).toBe(0);
  }, 120_000);
});
