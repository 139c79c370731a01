// Re-asks the JDK (Keycloak's runtime) for every corpus name and serial, so the recorded expectations cannot drift
// from what the JDK really does. Needs javac and java (bash .ci/run installs a JDK when missing).
import { describe, expect, it } from "vitest";
import { askJdk, jdkAvailable } from "../../scripts/jdk-oracle.ts";
import { DN_CASES } from "../fixtures/dn-cases.ts";
import expected from "../fixtures/dn-expected.json" with { type: "json" };
import { name, toHex } from "../helpers/der-build.ts";
import { SERIAL_CASES } from "../fixtures/serial-cases.ts";
import { serialDecimal, serialHex } from "../../src/x509/serial.ts";

const cases = expected.cases as Record<string, { legacy: string; canonical: string; rfc2253: string; jdkRfc2253?: string }>;

describe("the JDK agrees with the recorded expectations", () => {
  it("a JDK is installed", () => {
    expect(jdkAvailable(), "install a JDK (Debian: openjdk-17-jdk-headless)").toBe(true);
  });

  it("for every name of the corpus", () => {
    const answers = askJdk(DN_CASES.map((c) => `name ${toHex(name(c.rdns))}`));
    DN_CASES.forEach((c, i) => {
      const jdk = answers[i];
      const want = cases[c.name];
      expect({ case: c.name, legacy: jdk?.legacy, canonical: jdk?.canonical, rfc2253: jdk?.rfc2253 })
        .toEqual({ case: c.name, legacy: want?.legacy, canonical: want?.canonical, rfc2253: want?.jdkRfc2253 ?? want?.rfc2253 });
    });
  });

  it("for every serial number (BigInteger.toString and Keycloak's hex)", () => {
    const answers = askJdk(SERIAL_CASES.map((hex) => `serial ${hex}`));
    SERIAL_CASES.forEach((hex, i) => {
      const content = Uint8Array.from(Buffer.from(hex, "hex"));
      expect({ hex, decimal: serialDecimal(content), keycloakHex: serialHex(content) }).toEqual({ hex, decimal: answers[i]?.decimal, keycloakHex: answers[i]?.hex });
    });
  });
});
