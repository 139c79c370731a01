// Mapping an identity to a user (keycloak-x509.md §3.2) on the real user store, SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRealm } from "../../src/admin/import.ts";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { RealmStore } from "../../src/realms/realm-store.ts";
import { RealmUsers } from "../../src/users/federation.ts";
import { realmUserDirectory } from "../../src/users/x509-directory.ts";
import { mapIdentityToUser, type UserDirectory } from "../../src/x509/identity/mapping.ts";
import { KEYS, parseIdentityOptions } from "../../src/x509/options.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";

let tdb: TestDatabase;
let db: Database;
let withEmail: UserDirectory;
let withoutEmail: UserDirectory;

const ISSUER = "EMAILADDRESS=contact@keycloak.org, CN=Keycloak Intermediate CA, OU=Keycloak, O=Red Hat, ST=MA, C=US";

beforeAll(async () => {
  tdb = await freshDatabase();
  db = await openDatabase(tdb.url);
  const users = [
    { username: "test-user@localhost", email: "test-user@localhost", attributes: { x509_certificate_identity: ["-"], alternative_email: ["test-user-altmail@localhost"], upn: ["test_upn_name@localhost"] } },
    { username: "keycloak", email: "localhost@localhost", attributes: { x509_issuer_identity: ["Keycloak Intermediate CA"] } },
    { username: "serial-user", attributes: { x509_certificate_serialnumber: ["4105", "other"], x509_issuer_dn: [ISSUER] } },
    { username: "alice", email: "alice@example.org", attributes: { employee: ["1001"], code: ["Ab%_"] } },
    { username: "bob", attributes: { team: ["red"] } },
    { username: "carol", attributes: { team: ["red"] } },
    { username: "dave", attributes: { cn: ["dave"], ou: ["ops", "dev"] } },
  ];
  await importRealm(db.prisma, { realm: "map", users });
  await importRealm(db.prisma, { realm: "map-no-email", loginWithEmailAllowed: false, users });
  const realms = new RealmStore(db.prisma);
  withEmail = realmUserDirectory(new RealmUsers(db.prisma, (await realms.findByName("map"))!));
  withoutEmail = realmUserDirectory(new RealmUsers(db.prisma, (await realms.findByName("map-no-email"))!));
});
afterAll(async () => {
  await db?.close();
  await tdb?.drop();
});

const usernameOrEmail = parseIdentityOptions({});
const attributes = (names: string) => parseIdentityOptions({ [KEYS.mapper]: "Custom Attribute Mapper", [KEYS.attributeNames]: names });
const who = async (identity: string, options = usernameOrEmail, dir = withEmail) => {
  const r = await mapIdentityToUser(identity, options, dir);
  return r.kind === "found" ? r.user.username : r.kind === "duplicate" ? `duplicate(${r.count})` : "not-found";
};

describe("Username or Email", () => {
  it("looks an identity with @ up by e-mail first when the realm allows e-mail login", async () => {
    expect(await who("localhost@localhost")).toBe("keycloak");
    expect(await who("ALICE@example.org")).toBe("alice");
  });

  it("falls back to the username", async () => {
    expect(await who("test-user@localhost")).toBe("test-user@localhost");
    expect(await who("Alice")).toBe("alice");
  });

  it("never matches by e-mail when the realm does not allow e-mail login", async () => {
    expect(await who("localhost@localhost", usernameOrEmail, withoutEmail)).toBe("not-found");
    expect(await who("test-user@localhost", usernameOrEmail, withoutEmail)).toBe("test-user@localhost");
  });

  it("trims the identity as Java's trim() does", async () => {
    expect(await who("  alice\t")).toBe("alice");
    expect(await who("   ")).toBe("not-found");
  });
});

describe("Custom Attribute Mapper", () => {
  it("matches one attribute exactly", async () => {
    expect(await who("test-user-altmail@localhost", attributes("alternative_email"))).toBe("test-user@localhost");
    expect(await who("Keycloak Intermediate CA", attributes("x509_issuer_identity"))).toBe("keycloak");
    expect(await who("1001", attributes("employee"))).toBe("alice");
  });

  it("does not trim, fold case or treat % and _ as wildcards", async () => {
    expect(await who(" 1001", attributes("employee"))).toBe("not-found");
    expect(await who("TEST-USER-ALTMAIL@localhost", attributes("alternative_email"))).toBe("not-found");
    expect(await who("Ab%_", attributes("code"))).toBe("alice");
    expect(await who("Ab%%", attributes("code"))).toBe("not-found");
    expect(await who("%", attributes("code"))).toBe("not-found");
  });

  it("matches serial##issuer against two attributes, pair by pair", async () => {
    const o = attributes("x509_certificate_serialnumber##x509_issuer_dn");
    expect(await who(`4105##${ISSUER}`, o)).toBe("serial-user");
    expect(await who(`4106##${ISSUER}`, o)).toBe("not-found");
    expect(await who("4105", o)).toBe("not-found"); // one value for two names
    expect(await who(`4105##${ISSUER}##extra`, o)).toBe("not-found");
  });

  it("matches any value of a multi-valued attribute, in every pair (Keycloak: the first value after the first pair)", async () => {
    const o = attributes("cn##ou");
    expect(await who("dave##ops", o)).toBe("dave");
    expect(await who("dave##dev", o)).toBe("dave");
    expect(await who("dave##qa", o)).toBe("not-found");
    expect(await who(`other##${ISSUER}`, attributes("x509_certificate_serialnumber##x509_issuer_dn"))).toBe("serial-user");
  });

  it("reports several matching users as a duplicate", async () => {
    expect(await who("red", attributes("team"))).toBe("duplicate(2)");
  });

  it("finds nobody for an attribute nobody has", async () => {
    expect(await who("x", attributes("no_such_attribute"))).toBe("not-found");
  });
});
