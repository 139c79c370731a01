// First start: the `master` realm with an administrator and Keycloak's public `admin-cli` client, and (unless
// IDP_DEMO=false) a `demo` realm with a confidential client that may use the direct grant and a demo user.
// Generated secrets are shown once; the demo credentials are also kept in <data>/demo-credentials.json (0600) so
// that every start can print a working curl command for the demo realm.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { importRealm, RealmExistsError } from "./admin/import.ts";
import { MASTER_REALM } from "./admin/realms.ts";
import { SettingsError, type Settings } from "./config/env.ts";
import type { Prisma } from "./db/database.ts";
import { RealmStore } from "./realms/realm-store.ts";
import { ClientStore } from "./realms/client-store.ts";
import { usernameProblem } from "./users/username.ts";
import { DEMO_SERVICE, ensureDemoPki, type DemoPki } from "./demo/pki.ts";
import type { X509Representation } from "./admin/representation.ts";

export const DEMO_REALM = "demo";
export const DEMO_CLIENT = "demo-app";
export const DEMO_USER = "demo";

export interface DemoCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

export interface BootstrapResult {
  /** Set only when the admin password was generated now. */
  adminPassword?: string;
  demo?: DemoCredentials;
  /** The demo user's certificate files (when the demo realm exists). */
  demoPki?: DemoPki;
  /** The demo realm has the demo service client (realms created before it have not, until `x509-idp demo`). */
  demoService?: boolean;
  createdMaster: boolean;
  createdDemo: boolean;
}

export const DEMO_EMAIL = "demo@example.org";

/** The demo realm's certificate login: the demo CA trusted, both flows on, the identity from the subject's e-mail. */
export function demoX509(caPem: string): X509Representation {
  const config = { "x509-cert-auth.mapping-source-selection": "Subject's e-mail", "x509-cert-auth.mapper-selection": "Username or Email", "x509-cert-auth.extendedkeyusage": "clientAuth" };
  return { browser: { enabled: true, config }, directGrant: { enabled: true, config }, trustAnchors: [caPem] };
}

/**
 * The demo realm with its client, user and certificate login (`x509-idp demo`, and the first start): created when
 * missing, its PKI created or renewed, its X.509 settings set to trust the demo CA. Returns its credentials.
 */
export async function ensureDemo(db: Prisma, settings: Settings): Promise<{ demo: DemoCredentials; pki: DemoPki; created: boolean }> {
  const realms = new RealmStore(db);
  const file = demoCredentialsFile(settings.dataDir);
  const existing = await realms.findByName(DEMO_REALM);
  let demo: DemoCredentials | undefined = existing && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as DemoCredentials) : undefined;
  const created = !existing;
  if (existing && !demo) throw new Error(`the ${DEMO_REALM} realm exists but ${file} is missing: delete the realm, or set up its certificate login yourself`);
  demo ??= { clientId: DEMO_CLIENT, clientSecret: password() + password(), username: DEMO_USER, password: password() };
  const pki = await ensureDemoPki(settings.dataDir, { username: demo.username, email: DEMO_EMAIL }, demo.password);
  await importRealm(db, {
    realm: DEMO_REALM,
    displayName: "Demo",
    x509: demoX509(pki.caPem),
    clients: [{
      clientId: DEMO_CLIENT,
      name: "Demo application",
      secret: demo.clientSecret,
      redirectUris: ["http://localhost:3000/*", "http://127.0.0.1:3000/*"],
      postLogoutRedirectUris: ["http://localhost:3000/*", "http://127.0.0.1:3000/*"],
      directAccessGrantsEnabled: true,
      serviceAccountsEnabled: true,
    }, {
      // A script or service: client credentials with its certificate, no secret (RFC 8705 tls_client_auth).
      clientId: DEMO_SERVICE.clientId,
      name: "Demo service",
      clientAuthenticatorType: "client-x509",
      attributes: { tls_client_auth_san_uri: DEMO_SERVICE.spiffeId },
      standardFlowEnabled: false,
      serviceAccountsEnabled: true,
    }],
    users: [{
      username: DEMO_USER, email: DEMO_EMAIL, emailVerified: true, firstName: "Demo", lastName: "User",
      credentials: [{ type: "password", value: demo.password }],
    }],
  });
  if (created) {
    fs.mkdirSync(settings.dataDir, { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  }
  return { demo, pki, created };
}

const password = () => randomBytes(12).toString("base64url");
export const demoCredentialsFile = (dataDir: string) => path.join(dataDir, "demo-credentials.json");

/**
 * Whether this node created what `creating` creates: several nodes on one database may start at once, and the one
 * that loses the race finds the realm made by another (a unique violation, or the realm already there).
 */
async function createdHere(creating: Promise<unknown>): Promise<boolean> {
  try {
    await creating;
    return true;
  } catch (e) {
    if (e instanceof RealmExistsError || (e as { code?: unknown }).code === "P2002") return false;
    throw e;
  }
}

export async function bootstrap(db: Prisma, settings: Settings): Promise<BootstrapResult> {
  const realms = new RealmStore(db);
  const result: BootstrapResult = { createdMaster: false, createdDemo: false };
  if (!(await realms.findByName(MASTER_REALM))) {
    const problem = usernameProblem(settings.adminUser);
    if (problem) throw new SettingsError(`invalid configuration:\n  IDP_ADMIN_USER: ${problem}`);
    const adminPassword = settings.adminPassword ?? password();
    const created = await createdHere(importRealm(db, {
      realm: MASTER_REALM,
      displayName: "x509-idp administration",
      clients: [{ clientId: "admin-cli", name: "Admin CLI", publicClient: true, standardFlowEnabled: false, directAccessGrantsEnabled: true }],
      users: [{ username: settings.adminUser, enabled: true, realmRoles: ["admin"], credentials: [{ type: "password", value: adminPassword }] }],
    }, { mode: "create" }));
    result.createdMaster = created;
    if (created && !settings.adminPassword) result.adminPassword = adminPassword;
  }
  const file = demoCredentialsFile(settings.dataDir);
  if (settings.demo && result.createdMaster && !(await realms.findByName(DEMO_REALM))) {
    result.createdDemo = await createdHere(ensureDemo(db, settings));
  }
  const demoRealm = settings.demo && fs.existsSync(file) ? await realms.findByName(DEMO_REALM) : undefined;
  if (demoRealm) {
    result.demo = JSON.parse(fs.readFileSync(file, "utf8")) as DemoCredentials;
    const pkiDir = path.join(settings.dataDir, "demo-pki");
    if (fs.existsSync(path.join(pkiDir, `${result.demo.username}.crt`))) {
      result.demoPki = await ensureDemoPki(settings.dataDir, { username: result.demo.username, email: DEMO_EMAIL }, result.demo.password);
    }
    result.demoService = (await new ClientStore(db).findByClientId(demoRealm.id, DEMO_SERVICE.clientId)) !== undefined;
  }
  return result;
}
