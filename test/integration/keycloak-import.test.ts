// `x509-idp realm import --keycloak`: a Keycloak realm export (as kc.sh export writes it: argon2 and PBKDF2 password
// credentials, built-in clients, a service-account user, custom browser and direct-grant flows with the X.509
// authenticators and their configs) imports, and its users log in by password and by certificate.
import { pbkdf2Sync, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { hashRaw, type Algorithm } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { buildPki, keyPem, type Pki } from "../helpers/pki.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let pki: Pki;
let dir: string;

async function keycloakArgon2(password: string) {
  const salt = randomBytes(16);
  const hash = await hashRaw(password, { algorithm: 2 as Algorithm.Argon2id, memoryCost: 7168, timeCost: 5, parallelism: 1, outputLen: 32, salt });
  return {
    type: "password",
    secretData: JSON.stringify({ value: hash.toString("base64"), salt: salt.toString("base64"), additionalParameters: {} }),
    credentialData: JSON.stringify({ hashIterations: 5, algorithm: "argon2", additionalParameters: { hashLength: ["32"], memory: ["7168"], type: ["id"], version: ["1.3"], parallelism: ["1"] } }),
  };
}

function keycloakPbkdf2(password: string) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, 27500, 64, "sha256");
  return {
    type: "password",
    secretData: JSON.stringify({ value: hash.toString("base64"), salt: salt.toString("base64"), additionalParameters: {} }),
    credentialData: JSON.stringify({ hashIterations: 27500, algorithm: "pbkdf2-sha256", additionalParameters: {} }),
  };
}

const x509Config = {
  "x509-cert-auth.mapping-source-selection": "Subject's e-mail",
  "x509-cert-auth.mapper-selection": "Username or Email",
  "x509-cert-auth.regular-expression": "(.*?)(?:$)",
  "x509-cert-auth.canonical-dn-enabled": "false",
  "x509-cert-auth.serialnumber-hex-enabled": "false",
  "x509-cert-auth.timestamp-validation-enabled": "true",
  "x509-cert-auth.crl-checking-enabled": "",
  "x509-cert-auth.crldp-checking-enabled": "false",
  "x509-cert-auth.crl-relative-path": "crl.pem",
  "x509-cert-auth-crl-abort-if-non-updated": "true",
  "x509-cert-auth.ocsp-checking-enabled": "",
  "x509-cert-auth.ocsp-fail-open": "false",
  "x509-cert-auth.keyusage": "",
  "x509-cert-auth.extendedkeyusage": "",
  "x509-cert-auth.confirmation-page-disallowed": "",
  "x509-cert-auth.mapper-selection.user-attribute-name": "usercertificate",
  "x509-cert-auth.certificate-policy-mode": "All",
};

async function keycloakExport() {
  return {
    id: "6c4e2f0a-0000-4000-8000-000000000001",
    realm: "kc-test",
    enabled: true,
    accessTokenLifespan: 600,
    bruteForceProtected: true,
    failureFactor: 30,
    permanentLockout: true,
    maxTemporaryLockouts: 2,
    waitIncrementSeconds: 120,
    maxFailureWaitSeconds: 1800,
    maxDeltaTimeSeconds: 3600,
    bruteForceStrategy: "LINEAR",
    loginWithEmailAllowed: true,
    defaultSignatureAlgorithm: "RS256",
    browserFlow: "x509 browser",
    directGrantFlow: "x509 direct grant",
    clients: [
      { clientId: "account", enabled: true, publicClient: true, protocol: "openid-connect" },
      { clientId: "admin-cli", enabled: true, publicClient: true, protocol: "openid-connect" },
      { clientId: "resource-owner", name: "Resource owner", enabled: true, clientAuthenticatorType: "client-secret", secret: "secret", publicClient: false, directAccessGrantsEnabled: true, standardFlowEnabled: true, redirectUris: ["https://app.example/*"], webOrigins: ["+"], protocol: "openid-connect", defaultClientScopes: ["web-origins", "acr", "profile", "roles", "email"], optionalClientScopes: ["address", "phone", "offline_access", "microprofile-jwt"], attributes: { "post.logout.redirect.uris": "https://app.example/bye" } },
      { clientId: "masked", secret: "**********", publicClient: false, protocol: "openid-connect" },
      { clientId: "saml-app", protocol: "saml" },
    ],
    users: [
      { username: "test-user@localhost", email: "test-user@localhost", enabled: true, emailVerified: true, firstName: "Test", lastName: "User", attributes: { upn: ["test_upn_name@localhost"] }, realmRoles: ["default-roles-kc-test", "offline_access", "auditor"], credentials: [await keycloakArgon2("password")] },
      { username: "legacy", email: "legacy@localhost", enabled: true, credentials: [keycloakPbkdf2("old-password"), { type: "otp", secretData: "{}", credentialData: "{}" }] },
      { username: "service-account-resource-owner", enabled: true, serviceAccountClientId: "resource-owner" },
    ],
    authenticationFlows: [
      { alias: "x509 browser", providerId: "basic-flow", topLevel: true, authenticationExecutions: [
        { authenticator: "auth-cookie", requirement: "ALTERNATIVE", priority: 10 },
        { authenticator: "auth-x509-client-username-form", authenticatorConfig: "x509-browser", requirement: "ALTERNATIVE", priority: 20 },
        { flowAlias: "x509 browser forms", requirement: "ALTERNATIVE", priority: 30, authenticatorFlow: true },
      ] },
      { alias: "x509 browser forms", providerId: "basic-flow", topLevel: false, authenticationExecutions: [{ authenticator: "auth-username-password-form", requirement: "REQUIRED" }] },
      { alias: "x509 direct grant", providerId: "basic-flow", topLevel: true, authenticationExecutions: [
        { authenticator: "direct-grant-auth-x509-username", authenticatorConfig: "x509-direct-grant", requirement: "REQUIRED", priority: 10 },
      ] },
    ],
    authenticatorConfig: [
      { alias: "x509-browser", config: { ...x509Config, "x509-cert-auth.confirmation-page-disallowed": "false" } },
      { alias: "x509-direct-grant", config: x509Config },
    ],
  };
}

beforeAll(async () => {
  server = await startTestServer();
  pki = buildPki();
  dir = fs.mkdtempSync(path.join(server.db.dataDir, "kc-"));
  fs.writeFileSync(path.join(dir, "realm-export.json"), JSON.stringify(await keycloakExport()));
  fs.writeFileSync(path.join(dir, "root.pem"), pki.root.pem);
});
afterAll(async () => {
  await server?.stop();
  await server?.db.drop();
});

describe("x509-idp realm import --keycloak", () => {
  it("imports the realm, its clients and users, and the X.509 authenticators of its flows, and says what it left out", async () => {
    const r = await runCli(server.db, ["realm", "import", "--keycloak", path.join(dir, "realm-export.json"), "--trust", path.join(dir, "root.pem")]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { realm: string; clients: { created: string[] }; users: { created: number }; notes: string[]; generatedSecrets: Record<string, string> };
    expect(summary).toMatchObject({ realm: "kc-test", clients: { created: ["resource-owner", "masked"] }, users: { created: 2 } });
    expect(Object.keys(summary.generatedSecrets)).toEqual(["masked"]);
    expect(summary.notes).toEqual(expect.arrayContaining([
      'client "masked": the export holds no secret, a new one is generated',
      'client "saml-app": saml clients are not supported, skipped',
      'user "legacy": otp credentials are not supported, skipped',
      "bruteForceStrategy LINEAR is not supported: the wait grows as MULTIPLE (waitIncrementSeconds × ⌊failures / failureFactor⌋)",
    ]));
    const x509 = (await (await server.admin("GET", "/admin/realms/kc-test/x509")).json()) as { browser: { enabled: boolean; config: Record<string, string> }; directGrant: { enabled: boolean }; trustAnchors: string[] };
    expect(x509.browser).toMatchObject({ enabled: true, config: { "x509-cert-auth.mapping-source-selection": "Subject's e-mail" } });
    expect(x509.directGrant.enabled).toBe(true);
    expect(x509.trustAnchors).toHaveLength(1);
    const realm = (await (await server.admin("GET", "/admin/realms/kc-test")).json()) as Record<string, unknown>;
    expect(realm).toMatchObject({ accessTokenLifespan: 600, defaultSignatureAlgorithm: "RS256" });
    // The brute-force policy carries over under Keycloak's names.
    expect(realm).toMatchObject({ bruteForceProtected: true, failureFactor: 30, permanentLockout: true, maxTemporaryLockouts: 2, waitIncrementSeconds: 120, maxFailureWaitSeconds: 1800, maxDeltaTimeSeconds: 3600 });
    const users = (await (await server.admin("GET", "/admin/realms/kc-test/users?username=test-user@localhost&exact=true")).json()) as { realmRoles: string[]; attributes: Record<string, string[]> }[];
    expect(users[0]).toMatchObject({ realmRoles: ["auditor"], attributes: { upn: ["test_upn_name@localhost"] } });
  });

  it("its users log in with their Keycloak passwords (argon2 and PBKDF2); a PBKDF2 hash is upgraded on the way", async () => {
    const token = (form: Record<string, string>) => server.fetch("/realms/kc-test/protocol/openid-connect/token", { method: "POST", body: new URLSearchParams({ grant_type: "password", client_id: "resource-owner", client_secret: "secret", ...form }) });
    expect((await token({ username: "test-user@localhost", password: "password" })).status).toBe(200);
    expect((await token({ username: "test-user@localhost", password: "wrong" })).status).toBe(400);
    expect((await token({ username: "legacy", password: "old-password" })).status).toBe(200);
    const exported = await runCli(server.db, ["realm", "export", "kc-test"]);
    const legacy = (JSON.parse(exported.stdout) as { users: { username: string; credentials?: { hash: string }[] }[] }).users.find((u) => u.username === "legacy");
    expect(legacy?.credentials?.[0]?.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await token({ username: "legacy", password: "old-password" })).status).toBe(200);
  });

  it("its users log in with their certificates (the direct-grant X.509 configuration imported)", async () => {
    const client = server.withCertificate(pki.leaf.pem + pki.intermediate.pem, keyPem(pki.leaf.key));
    const res = await client.fetch("/realms/kc-test/protocol/openid-connect/token", { method: "POST", body: new URLSearchParams({ grant_type: "password", client_id: "resource-owner", client_secret: "secret", username: "", password: "" }) });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});
