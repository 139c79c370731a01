// A Keycloak realm export's LDAP provider and mappers become x509-idp's `ldap` (what does not carry over is noted).
import { describe, expect, it } from "vitest";
import { convertKeycloakRealm } from "../../src/admin/keycloak-import.ts";
import { parseRepresentation, realmSchema } from "../../src/admin/representation.ts";

const mapper = (name: string, providerId: string, config: Record<string, string>) => ({ name, providerId, config: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, [v]])) });

const exportWithLdap = (bindCredential: string) => ({
  realm: "corp",
  components: {
    "org.keycloak.storage.UserStorageProvider": [{
      name: "ldap", providerId: "ldap",
      config: {
        enabled: ["true"], connectionUrl: ["ldaps://ldap1.corp ldaps://ldap2.corp"], bindDn: ["cn=kc,dc=corp"], bindCredential: [bindCredential],
        usersDn: ["ou=people,dc=corp"], searchScope: ["2"], userObjectClasses: ["inetOrgPerson, organizationalPerson"],
        usernameLDAPAttribute: ["uid"], uuidLDAPAttribute: ["entryUUID"], connectionTimeout: ["3000"], readTimeout: ["4000"], customUserSearchFilter: ["(ou=x)"],
      },
      subComponents: {
        "org.keycloak.storage.ldap.mappers.LDAPStorageMapper": [
          mapper("email", "user-attribute-ldap-mapper", { "user.model.attribute": "email", "ldap.attribute": "mail" }),
          mapper("first name", "user-attribute-ldap-mapper", { "user.model.attribute": "firstName", "ldap.attribute": "cn" }),
          mapper("employee", "user-attribute-ldap-mapper", { "user.model.attribute": "employeeNumber", "ldap.attribute": "employeeNumber" }),
          mapper("cert", "certificate-ldap-mapper", { "user.model.attribute": "usercertificate", "ldap.attribute": "userCertificate", "is.der.formatted": "true", "is.binary.attribute": "true" }),
          mapper("groups", "group-ldap-mapper", {}),
        ],
      },
    }],
  },
});

describe("Keycloak LDAP provider import", () => {
  it("maps the connection, the profile attributes and the attribute and certificate mappers", () => {
    const { realm, notes } = convertKeycloakRealm(exportWithLdap("s3cret"));
    expect(realm.ldap).toEqual({
      enabled: true, connectionUrls: ["ldaps://ldap1.corp", "ldaps://ldap2.corp"], startTls: false, bindDn: "cn=kc,dc=corp", bindCredential: "s3cret",
      usersDn: "ou=people,dc=corp", searchScope: "sub", userObjectClasses: ["inetOrgPerson", "organizationalPerson"], usernameAttribute: "uid",
      uuidAttribute: "entryUUID", connectTimeoutMs: 3000, timeoutMs: 4000, emailAttribute: "mail", firstNameAttribute: "cn",
      attributeMappers: [{ name: "employeeNumber", ldapAttribute: "employeeNumber" }, { name: "usercertificate", ldapAttribute: "userCertificate", certificate: "der" }],
    });
    expect(notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/custom user search filter is not supported/),
      expect.stringMatching(/mapper "groups" \(group-ldap-mapper\) is not supported/),
      expect.stringMatching(/give the LDAP servers' CA as ldap.caCertificates/),
    ]));
    expect(() => parseRepresentation(realmSchema, realm)).not.toThrow();
  });

  it("a masked credential is left out, with a note", () => {
    const { realm, notes } = convertKeycloakRealm(exportWithLdap("**********"));
    expect(realm.ldap).not.toHaveProperty("bindCredential");
    expect(notes).toEqual(expect.arrayContaining([expect.stringMatching(/no bind credential; set it with PUT/)]));
  });
});
