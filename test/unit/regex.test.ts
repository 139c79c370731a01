// The linear-time engine behind the regular-expression identity sources: Java's find() semantics (checked against
// java.util.regex itself, also on random patterns), refusals with clear messages, and bounded time on hostile input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { askJdk } from "../../scripts/jdk-oracle.ts";
import { MAX_PROGRAM, Pattern, PatternTooComplexError, STEP_BUDGET } from "../../src/x509/regex/pattern.ts";
import { RegexSyntaxError } from "../../src/x509/regex/syntax.ts";

const group1 = (p: string, s: string) => new Pattern(p).find(s)?.groups[0];
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

describe("Java's Matcher.find() semantics", () => {
  it("Keycloak's documented examples", () => {
    expect(group1("uniqueId=(.*?)(?:,|$)", "uniqueId=somebody@company.org, CN=somebody")).toBe("somebody@company.org");
    expect(group1("(.*?)(?:$)", "EMAILADDRESS=test-user@localhost, CN=test-user")).toBe("EMAILADDRESS=test-user@localhost, CN=test-user");
    expect(group1("O=(.*?)(?:,|$)", "EMAILADDRESS=contact@keycloak.org, CN=Keycloak Intermediate CA, OU=Keycloak, O=Red Hat, ST=MA, C=US")).toBe("Red Hat");
    expect(new Pattern("INVALID=(.*?)(?:,|$)").find("CN=x")).toBeUndefined();
  });

  it("is case-insensitive for ASCII letters only, like CASE_INSENSITIVE without UNICODE_CASE", () => {
    expect(group1("cn=(\\w+)", "CN=Alice")).toBe("Alice");
    expect(group1("([a-c]+)", "xABCy")).toBe("ABC");
    expect(new Pattern("(é)").find("É")).toBeUndefined();
  });

  it("treats . and $ as Java does (line terminators, a final line break)", () => {
    expect(group1("(.+)", "a\nb")).toBe("a");
    expect(group1("(b)$", "ab\n")).toBe("b");
    expect(group1("(b)$", "ab\r\n")).toBe("b");
    expect(new Pattern("(b)$").find("ab\n\n")).toBeUndefined();
    expect(group1("(.)", "😀x")).toBe("😀");
  });

  const FIXED: [string, string][] = [
    ["(a|ab)(c|bcd)(d*)", "abcd"], ["(a*)*", "b"], ["(a*)+", "b"], ["(x?)*y", "xxy"], ["(a|b)*?c", "abac"], ["x(y?)z", "xz"],
    ["([^,]+)$", "a,b,c\n"], ["(.*)$", "line\r\n"], ["^(a)", "ba"], ["\\b(\\w+)\\b", "  héllo wörld"], ["(x{2,3})", "xxxxx"],
    ["(x{2,3}?)", "xxxxx"], ["([^a-c]+)", "ABCdef"], ["(\\d{3})", "ab1234"], ["(\\Q.*\\E)", "a.*b"], ["(\\x41)", "a"],
    ["(\\u00e9)", "É é"], ["(?:CN|OU)=([^,]*)", "OU=x, CN=y"], ["((a)|b)+", "ab"], ["(a)|b", "b"], ["(?<n>.)\\z", "ab"],
    ["(\\s+)", "a \t b"], ["([\\w.-]+)@", "first.last-x@host"], ["(\\0101)", "A"], ["(\\cA)", "\u0001"], ["(?i)(x)", "X"],
    ["([\\]-])", "a]-"], ["(a{0})b", "ab"], ["(\\W)", "ab!c"], ["(.*?)\\Z", "abc\n"], ["(\\B.)", "ab"],
  ];

  it("agrees with java.util.regex on hand-picked patterns", () => {
    const java = askJdk(FIXED.map(([p, s]) => `regex ${b64(p)} ${b64(s)}`));
    FIXED.forEach(([p, s], i) => {
      const ours = new Pattern(p).find(s);
      const j = java[i] as Record<string, unknown>;
      expect({ p, s, found: ours !== undefined, group1: ours ? (ours.groups[0] ?? null) : undefined })
        .toEqual({ p, s, found: j.found, group1: j.found ? j.group1 : undefined });
    });
  });

  it("agrees with java.util.regex on 3,000 random patterns and inputs", () => {
    const atom = fc.oneof(
      fc.constantFrom("a", "b", "A", "c", ",", "=", " ", "\\.", ".", "[ab]", "[^a]", "[a-c]", "\\w", "\\d", "\\s", "\\W", "$", "^", "\\b"),
    );
    const quant = fc.constantFrom("", "", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{0,}", "{1,3}?");
    const pattern: fc.Arbitrary<string> = fc.letrec<{ alt: string; seq: string; term: string }>((tie) => ({
      term: fc.oneof(
        { weight: 5, arbitrary: fc.tuple(atom, quant).map(([a, q]) => (/^[$^]|\\b/.test(a) ? a : a + q)) },
        { weight: 1, arbitrary: fc.tuple(tie("alt"), quant).map(([a, q]) => `(?:${a})${q}`) },
      ),
      seq: fc.array(tie("term"), { minLength: 0, maxLength: 4 }).map((t) => t.join("")),
      alt: fc.array(tie("seq"), { minLength: 1, maxLength: 3 }).map((s) => s.join("|")),
    })).alt;
    const withGroup = fc.tuple(pattern, pattern, pattern, quant).map(([pre, inner, post, q]) => `${pre}(${inner})${q.startsWith("{0") ? "" : q}${post}`);
    const input = fc.string({ unit: fc.constantFrom("a", "b", "A", "B", "c", ",", "=", " ", "1", "\n", "é"), maxLength: 14 });
    const samples = fc.sample(fc.tuple(withGroup, input), { numRuns: 3000, seed: 20261122 });
    const java = askJdk(samples.map(([p, s]) => `regex ${b64(p)} ${b64(s)}`));
    let compared = 0;
    samples.forEach(([p, s], i) => {
      const j = java[i] as Record<string, unknown>;
      if (j.error) return; // a pattern Java itself refuses
      let pattern: Pattern;
      try {
        pattern = new Pattern(p);
      } catch (e) {
        if (e instanceof PatternTooComplexError) return; // beyond MAX_PROGRAM: refused when configured
        throw e;
      }
      compared++;
      const ours = pattern.find(s);
      expect({ p, s, found: ours !== undefined, group1: ours ? (ours.groups[0] ?? null) : undefined })
        .toEqual({ p, s, found: j.found, group1: j.found ? j.group1 : undefined });
    });
    expect(compared).toBeGreaterThan(2800);
  });
});

describe("Keycloak's default (.*?)(?:$) in closed form", () => {
  it("gives exactly what the general engine gives, on any text with or without line terminators", () => {
    const general = new Pattern("(.*?)(?:$)", { specialise: false });
    const fast = new Pattern("(.*?)(?:$)");
    const text = fc.string({ unit: fc.constantFrom("a", "B", ",", "=", " ", "\n", "\r", "\u0085", "\u2028", "\u2029", "é"), maxLength: 12 });
    fc.assert(fc.property(text, (s) => {
      expect(fast.find(s)).toEqual(general.find(s));
    }), { numRuns: 5000 });
  });

  it("and what Java gives", () => {
    const samples = ["", "a", "a\n", "a\r\n", "a\n\n", "a\nb", "\r", "\r\n", "x\u2028", "a\rb\r\n", "EMAILADDRESS=a@b, CN=x"];
    const java = askJdk(samples.map((s) => `regex ${b64("(.*?)(?:$)")} ${b64(s)}`));
    samples.forEach((s, i) => expect(new Pattern("(.*?)(?:$)").find(s)?.groups[0]).toBe((java[i] as Record<string, unknown>).group1));
  });
});

describe("patterns that cannot run in linear time are refused, with the reason", () => {
  it.each([
    ["(a)\\1", /back-references/],
    ["(?=a)(b)", /look-around/],
    ["(?<=a)(b)", /look-around/],
    ["(?!a)(b)", /look-around/],
    ["(?>a)(b)", /atomic/],
    ["(a++)", /possessive/],
    ["(\\p{L})", /Unicode properties/],
    ["([a[b]])", /nested/],
    ["([a&&b])", /intersection/],
    ["(a", /unclosed group/],
    ["a)", /unmatched/],
    ["(*a)", /dangling/],
    ["(a{2,1})", /range/],
    ["(a{5000})", /above 1000/],
    ["(\\q)", /unsupported escape/],
    ["(?x)(a)", /inline flags/],
    ["([])", /empty character class/],
  ])("%s", (p, message) => {
    expect(() => new Pattern(p)).toThrow(RegexSyntaxError);
    expect(() => new Pattern(p)).toThrow(message);
  });

  it("refuses a pattern that compiles to too many steps", () => {
    expect(() => new Pattern("(a{500}b{500})")).toThrow(PatternTooComplexError);
    expect(new Pattern("(a{100})").size).toBeLessThan(MAX_PROGRAM);
  });

  it("counts capturing groups as Java does (named ones too, not (?:…))", () => {
    expect(new Pattern("(?:a)(b)(?<x>c)").groupCount).toBe(2);
    expect(new Pattern("(?:a|b)").groupCount).toBe(0);
  });
});

describe("hostile input cannot stall a search", () => {
  // Catastrophic for a backtracking engine: Java takes exponential time on each. Here every state (instruction, loop
  // progress bits, position) is explored at most once, so the work is bounded by the program size × 2^depth × input
  // length, which `fits` keeps within STEP_BUDGET. The wall time of the worst case is measured by `npm run bench`.
  it.each([
    ["(a+)+$", "a".repeat(4000) + "!", undefined],
    ["(a|a)*b", "a".repeat(4000), undefined],
    ["(?:.*?,){20}(x)", "a,".repeat(2000), undefined],
    ["(x*)*y", "x".repeat(5000), undefined],
    ["(x*)*y", "x".repeat(5000) + "y", ""],
  ])("%s is answered within the state budget", (p, s, group) => {
    const pattern = new Pattern(p);
    const input = pattern.fits(s) ? s : s.slice(0, pattern.maxInputLength - 1) + s.slice(-1);
    expect(pattern.fits(input)).toBe(true);
    expect(pattern.find(input)?.groups[0]).toBe(group);
  });

  it("says when an input is beyond the budget", () => {
    const p = new Pattern("CN=(.*?)(?:,|$)");
    expect(p.fits("x".repeat(1000))).toBe(true);
    expect(p.fits("x".repeat(p.maxInputLength + 1))).toBe(false);
    expect(p.maxInputLength).toBeGreaterThan(STEP_BUDGET / p.size / 2);
  });
});
