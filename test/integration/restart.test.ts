// Everything that matters survives a restart on the same database: signing keys (tokens issued before stay
// verifiable), browser sessions (no new password prompt), access and refresh tokens, users, and the bootstrap is
// not repeated.
import { createPublicKey, verify } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { Browser } from "../helpers/browser.ts";
import { freshDatabase } from "../helpers/db.ts";
import { APP_SECRET, REDIRECT, seedAcme } from "../helpers/fixtures.ts";
import { decodeProtectedHeader } from "../helpers/jwt.ts";
import { authorizationRequest, loginWithPassword, relyingParty } from "../helpers/rp.ts";
import { freePort, startTestServer, type TestServer } from "../helpers/server.ts";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

type Jwks = { keys: (Record<string, string> & { kid: string })[] };
const jwksOf = async (s: TestServer) => (await (await s.fetch("/realms/acme/protocol/openid-connect/certs")).json()) as Jwks;

function verifiesWith(jwks: Jwks, jwt: string): boolean {
  const [h, p, sig] = jwt.split(".");
  const key = jwks.keys.find((k) => k.kid === decodeProtectedHeader(jwt).kid);
  if (!key || !h || !p || !sig) return false;
  return verify("sha256", Buffer.from(`${h}.${p}`), { key: createPublicKey({ key, format: "jwk" }), dsaEncoding: "ieee-p1363" }, Buffer.from(sig, "base64url"));
}

describe("restart on the same database", () => {
  it("keeps keys, sessions, tokens and users", async () => {
    const db = await freshDatabase();
    const port = await freePort();
    cleanup.push(() => db.drop());

    const first = await startTestServer({ db, port });
    expect(first.started.boot.createdMaster).toBe(true);
    await seedAcme(first);
    const browser = new Browser(first.dispatcher);
    const config1 = await relyingParty(first, "acme", "web-app", APP_SECRET);
    const { tokens } = await loginWithPassword(config1, browser, { username: "alice", password: "alice-password", redirectUri: REDIRECT });
    const jwksBefore = await jwksOf(first);
    const demoBefore = first.started.boot.demo;
    await first.stop();

    const second = await startTestServer({ db, port });
    cleanup.push(() => second.stop());
    expect(second.started.boot).toMatchObject({ createdMaster: false, createdDemo: false });
    expect(second.started.boot.adminPassword).toBeUndefined();
    expect(second.started.boot.demo).toEqual(demoBefore);

    const jwksAfter = await jwksOf(second);
    expect(jwksAfter).toEqual(jwksBefore);
    expect(verifiesWith(jwksAfter, tokens.id_token ?? "")).toBe(true);

    // The access token issued before the restart is still accepted.
    const info = await second.fetch("/realms/acme/protocol/openid-connect/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(info.status).toBe(200);
    expect(((await info.json()) as { preferred_username: string }).preferred_username).toBe("alice");

    // The refresh token too.
    const config2 = await relyingParty(second, "acme", "web-app", APP_SECRET);
    const refreshed = await oidc.refreshTokenGrant(config2, tokens.refresh_token ?? "");
    expect(refreshed.claims()?.preferred_username).toBe("alice");

    // And the browser session: the next authorization goes straight back to the client.
    const again = await authorizationRequest(config2, REDIRECT);
    const browser2 = new Browser(second.dispatcher);
    for (const [k, v] of browser.cookies) browser2.cookies.set(k, v);
    const page = await browser2.navigate(again.url, REDIRECT);
    expect(page.location?.startsWith(REDIRECT)).toBe(true);
    const code = await oidc.authorizationCodeGrant(config2, new URL(page.location ?? ""), again.checks);
    expect(code.claims()?.sub).toBe(tokens.claims()?.sub);

    // Users and the administrator are still there.
    expect(await second.adminToken()).toBeTruthy();
  });
});
