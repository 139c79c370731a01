// First start: the `master` realm with an administrator and Keycloak's public `admin-cli` client, and (unless
// IDP_DEMO=false) a `demo` realm with a confidential client that may use the direct grant and a demo user.
// Generated secrets are shown once; the demo credentials are also kept in <data>/demo-credentials.json (0600) so
// that every start can print a working curl command for the demo realm.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { importRealm } from "./admin/import.ts";
import { MASTER_REALM } from "./admin/realms.ts";
import type { Settings } from "./config/env.ts";
import type { Prisma } from "./db/database.ts";
import { RealmStore } from "./realms/realm-store.ts";

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
  createdMaster: boolean;
  createdDemo: boolean;
}

const password = () => randomBytes(12).toString("base64url");
export const demoCredentialsFile = (dataDir: string) => path.join(dataDir, "demo-credentials.json");

export async function bootstrap(db: Prisma, settings: Settings): Promise<BootstrapResult> {
  const realms = new RealmStore(db);
  const result: BootstrapResult = { createdMaster: false, createdDemo: false };
  if (!(await realms.findByName(MASTER_REALM))) {
    const adminPassword = settings.adminPassword ?? password();
    await importRealm(db, {
      realm: MASTER_REALM,
      displayName: "x509-idp administration",
      clients: [{ clientId: "admin-cli", name: "Admin CLI", publicClient: true, standardFlowEnabled: false, directAccessGrantsEnabled: true }],
      users: [{ username: settings.adminUser, enabled: true, realmRoles: ["admin"], credentials: [{ type: "password", value: adminPassword }] }],
    });
    result.createdMaster = true;
    if (!settings.adminPassword) result.adminPassword = adminPassword;
  }
  const file = demoCredentialsFile(settings.dataDir);
  if (settings.demo && result.createdMaster && !(await realms.findByName(DEMO_REALM))) {
    const demo: DemoCredentials = { clientId: DEMO_CLIENT, clientSecret: password() + password(), username: DEMO_USER, password: password() };
    await importRealm(db, {
      realm: DEMO_REALM,
      displayName: "Demo",
      clients: [{
        clientId: DEMO_CLIENT,
        name: "Demo application",
        secret: demo.clientSecret,
        redirectUris: ["http://localhost:3000/*", "http://127.0.0.1:3000/*"],
        postLogoutRedirectUris: ["http://localhost:3000/*", "http://127.0.0.1:3000/*"],
        directAccessGrantsEnabled: true,
        serviceAccountsEnabled: true,
      }],
      users: [{
        username: DEMO_USER, email: "demo@example.org", emailVerified: true, firstName: "Demo", lastName: "User",
        credentials: [{ type: "password", value: demo.password }],
      }],
    });
    fs.mkdirSync(settings.dataDir, { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
    result.createdDemo = true;
  }
  if (settings.demo && fs.existsSync(file) && (await realms.findByName(DEMO_REALM))) {
    result.demo = JSON.parse(fs.readFileSync(file, "utf8")) as DemoCredentials;
  }
  return result;
}
