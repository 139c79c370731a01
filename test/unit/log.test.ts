import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";

describe("logs", () => {
  it("redact passwords, secrets, tokens and credentials wherever they appear", () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const log = createLogger("info", sink);
    log.info({
      password: "p1",
      body: { client_secret: "s1", username: "alice" },
      req: { headers: { authorization: "Basic abc", cookie: "X=1" } },
      user: { passwordHash: "$argon2id$…", credentials: [{ type: "password", value: "p2" }] },
      tokens: { access_token: "at", refresh_token: "rt", id_token: "it" },
    }, "login");
    const out = lines.join("");
    for (const secret of ["p1", "s1", "Basic abc", "X=1", "$argon2id", "p2", '"at"', '"rt"', '"it"']) expect(out).not.toContain(secret);
    expect(out).toContain("alice");
    expect(out).toContain("[redacted]");
  });
});
