import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings, SettingsError } from "../../src/config/env.ts";

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

  it("treats empty variables as unset", () => {
    expect(loadSettings({ IDP_HTTP_PORT: "", IDP_PUBLIC_URL: " " }).httpPort).toBeUndefined();
  });

  it("refuses bad values with a message naming each variable", () => {
    const attempt = () => loadSettings({ IDP_HTTPS_PORT: "eighty", DATABASE_URL: "mysql://x", IDP_TLS_CERT: "/x.crt", IDP_LOG_LEVEL: "loud", IDP_PUBLIC_URL: "ftp://x" });
    expect(attempt).toThrow(SettingsError);
    const message = (() => { try { attempt(); } catch (e) { return (e as Error).message; } return ""; })();
    for (const name of ["IDP_HTTPS_PORT", "DATABASE_URL", "IDP_TLS_CERT", "IDP_LOG_LEVEL", "IDP_PUBLIC_URL"]) expect(message).toContain(name);
  });
});
