// DN renderings, byte for byte as the JDK: Keycloak's published vectors, then the whole corpus against the JDK's
// answers recorded in test/fixtures/dn-expected.json.
import { describe, expect, it } from "vitest";
import { canonicalDn, legacyDn, rfc2253Dn } from "../../src/x509/dn.ts";
import { decodeName } from "../../src/x509/name.ts";
import { DN_CASES } from "../fixtures/dn-cases.ts";
import expected from "../fixtures/dn-expected.json" with { type: "json" };
import { name } from "../helpers/der-build.ts";

const cases = expected.cases as Record<string, { legacy: string; canonical: string; rfc2253: string; jdkRfc2253?: string }>;
const render = (rdns: (typeof DN_CASES)[number]["rdns"]) => {
  const n = decodeName(name(rdns));
  return { legacy: legacyDn(n), canonical: canonicalDn(n), rfc2253: rfc2253Dn(n) };
};

describe("Keycloak's published DN vectors (keycloak-x509.md §3.1)", () => {
  const byName = (n: string) => render(DN_CASES.find((c) => c.name === n)?.rdns ?? []);

  it("test-user subject, non-canonical and canonical", () => {
    const r = byName("keycloak test-user subject");
    expect(r.legacy).toBe("EMAILADDRESS=test-user@localhost, CN=test-user, OU=Keycloak, O=Red Hat, L=Boston, ST=MA, C=US");
    expect(r.canonical).toBe("1.2.840.113549.1.9.1=#1613746573742d75736572406c6f63616c686f7374,cn=test-user,ou=keycloak,o=red hat,l=boston,st=ma,c=us");
  });

  it("intermediate CA issuer, non-canonical and canonical", () => {
    const r = byName("keycloak intermediate CA (issuer)");
    expect(r.legacy).toBe("EMAILADDRESS=contact@keycloak.org, CN=Keycloak Intermediate CA, OU=Keycloak, O=Red Hat, ST=MA, C=US");
    expect(r.canonical).toBe("1.2.840.113549.1.9.1=#1614636f6e74616374406b6579636c6f616b2e6f7267,cn=keycloak intermediate ca,ou=keycloak,o=red hat,st=ma,c=us");
  });
});

describe(`the DN corpus, as ${expected.jdk} renders it`, () => {
  it("has an expectation for every case", () => {
    expect(Object.keys(cases).sort()).toEqual(DN_CASES.map((c) => c.name).sort());
  });
  for (const c of DN_CASES) {
    it(c.name, () => {
      const want = cases[c.name];
      expect(render(c.rdns)).toEqual({ legacy: want?.legacy, canonical: want?.canonical, rfc2253: want?.rfc2253 });
    });
  }
});

describe("where x509-idp departs from the JDK on purpose", () => {
  it("decodes BMPString and T61String in the RFC 2253 rendering instead of garbling them", () => {
    const departures = Object.entries(cases).filter(([, v]) => v.jdkRfc2253 !== undefined).map(([k]) => k).sort();
    expect(departures).toEqual(["BMPString", "BMPString odd length", "BMPString unpaired surrogate", "T61String Latin-1"]);
    expect(cases["BMPString"]?.jdkRfc2253).toContain("\\00J");
  });
});
