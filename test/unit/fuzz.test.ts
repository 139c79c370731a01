// Random, truncated and mutated DER never produces an uncaught exception and never hangs (≥ 100,000 inputs here;
// `npm run fuzz` runs longer).
import { describe, expect, it } from "vitest";
import { fuzz } from "../helpers/fuzz.ts";

describe("robustness", () => {
  it("100,000 mutated and random inputs: each parses or fails with CertificateParseError, quickly", () => {
    const stats = fuzz(100_000, 20261122);
    expect(stats.inputs).toBe(100_000);
    // Mutations keep a share of the inputs parseable, so the identity sources are exercised too.
    expect(stats.parsed).toBeGreaterThan(10_000);
    expect(stats.slowestMs).toBeLessThan(100);
  }, 300_000);
});
