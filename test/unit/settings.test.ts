import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings, SettingsError, VARIABLES } from "../../src/config/env.ts";
import { LOOKUP_IDS, LOOKUP_OPTIONS } from "../../src/x509/index.ts";

describe("process settings", () => {
  it("defaults to SQLite in ./data and HTTPS on 8443", () => {
    const s = loadSettings({});
    expect(s.dataDir).toBe(path.resolve("data"));
    expect(s.databaseUrl).toBe(`file:${path.resolve("data", "idp.db")}`);
    expect(s).toMatchObject({ httpsPort: 8443, httpPort: undefined, publicUrl: "https://localhost:8443", adminUser: "admin", demo: true, logLevel: "info" });
  });

  it("derives the database and public URL from IDP_DATA_DIR and the port", () => {
    const s = loadSettings({ IDP_DATA_DIR: "/srv/idp", IDP_HTTPS_PORT: "443", IDP_HTTP_PORT: "8080", IDP_DEMO: "false" });
    expect(s.databaseUrl).toBe("file:/srv/idp/idp.db");
    expect(s.publicUrl).toBe("https://localhost");
    expect(s.httpPort).toBe(8080);
    expect(s.demo).toBe(false);
  });

  it("uses PostgreSQL when DATABASE_URL says so, and trims a trailing slash off the public URL", () => {
    const s = loadSettings({ DATABASE_URL: "postgresql://idp@db/idp", IDP_PUBLIC_URL: "https://login.example.org/" });
    expect(s.databaseUrl).toBe("postgresql://idp@db/idp");
    expect(s.publicUrl).toBe("https://login.example.org");
  });

  it("IDP_WORKERS: one process by default, one per core with NODE_ENV=production or auto, never two on an in-memory database", () => {
    const cores = os.availableParallelism();
    expect(loadSettings({}).workers).toBe(1);
    expect(loadSettings({ NODE_ENV: "production" }).workers).toBe(cores);
    expect(loadSettings({ IDP_WORKERS: "auto" }).workers).toBe(cores);
    expect(loadSettings({ IDP_WORKERS: "3", NODE_ENV: "production" }).workers).toBe(3);
    expect(loadSettings({ NODE_ENV: "production", DATABASE_URL: "file::memory:" }).workers).toBe(1);
    expect(messageOf({ IDP_WORKERS: "2", DATABASE_URL: "file::memory:" })).toContain("IDP_WORKERS: an in-memory database");
    for (const bad of ["0", "65", "two", "1.5"]) expect(messageOf({ IDP_WORKERS: bad })).toContain("IDP_WORKERS: a number of processes from 1 to 64, or auto");
  });

  it("treats empty variables as unset", () => {
    expect(loadSettings({ IDP_HTTP_PORT: "", IDP_PUBLIC_URL: " " }).httpPort).toBeUndefined();
  });

  it("refuses bad values with a message naming each variable", () => {
    const attempt = () => loadSettings({ IDP_HTTPS_PORT: "eighty", DATABASE_URL: "mysql://x", IDP_TLS_CERT: "/x.crt", IDP_LOG_LEVEL: "loud", IDP_PUBLIC_URL: "ftp://x" });
    expect(attempt).toThrow(SettingsError);
    const message = (() => { try { attempt(); } catch (e) { return (e as Error).message; } return ""; })();
    for (const name of ["IDP_HTTPS_PORT", "DATABASE_URL", "IDP_TLS_CERT", "IDP_LOG_LEVEL", "IDP_PUBLIC_URL"]) expect(message).toContain(name);
  });

  const messageOf = (env: Record<string, string>) => {
    try {
      loadSettings(env);
    } catch (e) {
      expect(e).toBeInstanceOf(SettingsError);
      return (e as Error).message;
    }
    return "";
  };

  it("reads client certificates from the TLS connection unless IDP_X509_LOOKUP names a proxy", () => {
    expect(loadSettings({}).x509Lookup).toEqual({ id: "tls", options: {} });
    const s = loadSettings({ IDP_X509_LOOKUP: "nginx", IDP_TRUSTED_PROXIES: "10.0.0.5, 192.168.0.0/16 fd00::/8", IDP_X509_LOOKUP_TRUST_PROXY_VERIFICATION: "true" });
    expect(s.x509Lookup).toEqual({ id: "nginx", options: { "trust-proxy-verification": "true" } });
    expect(s.trustedProxies.contains("10.0.0.5")).toBe(true);
    expect(s.trustedProxies.contains("::ffff:192.168.3.4")).toBe(true);
    expect(s.trustedProxies.contains("fd00::1")).toBe(true);
    expect(s.trustedProxies.contains("10.0.0.6")).toBe(false);
  });

  it("a header lookup without IDP_TRUSTED_PROXIES does not start", () => {
    expect(messageOf({ IDP_X509_LOOKUP: "haproxy" })).toMatch(/IDP_TRUSTED_PROXIES: IDP_X509_LOOKUP=haproxy reads client certificates from a header/);
  });

  it("names the variable of a bad lookup option, an unknown provider and a bad CIDR", () => {
    expect(messageOf({ IDP_X509_LOOKUP: "traefik", IDP_TRUSTED_PROXIES: "10.0.0.1", IDP_X509_LOOKUP_SSL_CERT_CHAIN_PREFIX: "X" })).toMatch(
      /IDP_X509_LOOKUP_SSL_CERT_CHAIN_PREFIX: not an option of the traefik lookup/,
    );
    expect(messageOf({ IDP_X509_LOOKUP: "squid" })).toMatch(/IDP_X509_LOOKUP: /);
    expect(messageOf({ IDP_TRUSTED_PROXIES: "10.0.0.0/33" })).toMatch(/IDP_TRUSTED_PROXIES: "10.0.0.0\/33" is not an IP address or CIDR block/);
    expect(messageOf({ IDP_TRUSTED_PROXIES: "proxy.example" })).toMatch(/IDP_TRUSTED_PROXIES/);
  });

  it("IDP_CONFIG_FILE supplies what the environment does not set; the environment wins", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "x509idp-settings-"));
    const file = path.join(dir, "x509-idp.env");
    fs.writeFileSync(file, "# proxy settings\nIDP_X509_LOOKUP=rfc9440\nIDP_TRUSTED_PROXIES=127.0.0.2\nIDP_HTTPS_PORT=9443\n");
    try {
      const s = loadSettings({ IDP_CONFIG_FILE: file, IDP_HTTPS_PORT: "8444" });
      expect(s.x509Lookup.id).toBe("rfc9440");
      expect(s.httpsPort).toBe(8444);
      expect(messageOf({ IDP_CONFIG_FILE: path.join(dir, "missing.env") })).toMatch(/IDP_CONFIG_FILE: cannot read .*missing\.env \(ENOENT\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the README documents every variable, every lookup provider and every lookup option", () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
    const config = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 5));
    for (const v of VARIABLES) expect(config, v).toContain(`\`${v}\``);
    const proxies = readme.slice(readme.indexOf("## Reverse proxies"), readme.indexOf("### nginx"));
    for (const id of LOOKUP_IDS) expect(proxies, id).toContain(`| \`${id}\``);
    for (const options of Object.values(LOOKUP_OPTIONS)) for (const option of Object.keys(options)) expect(proxies, option).toContain(`\`${option}\``);
  });
});
