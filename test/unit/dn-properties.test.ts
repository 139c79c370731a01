// Properties of the DN renderings over random names: they are deterministic, and their escaping round-trips through
// a DN parser (every value comes back exactly, as text or as the DER of its value).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { legacyDn, renderDn, rfc2253Dn, rfc2253Text } from "../../src/x509/dn.ts";
import { parseDn, type ParsedAva } from "../../src/x509/dn-parse.ts";
import { decodeName, type Ava } from "../../src/x509/name.ts";
import { ATTR } from "../../src/x509/oids.ts";
import { jdkString } from "../../src/x509/strings.ts";
import { name, type RdnSpec, type StringType } from "../helpers/der-build.ts";

const KEYWORD_OID: Record<string, string> = { ...ATTR, EMAIL: ATTR.EMAILADDRESS };
const oidOf = (type: string) => KEYWORD_OID[type] ?? type;

const char = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcXYZ019 .-'()/:?") },
  { weight: 3, arbitrary: fc.constantFrom(..."=,+\"\\<>;#") },
  { weight: 2, arbitrary: fc.constantFrom("\n", "\r", "\t", "\u0000", "\u00a0") },
  { weight: 2, arbitrary: fc.constantFrom("é", "ß", "Ä", "漢", "😀", "İ") },
);
const text = fc.array(char, { maxLength: 12 }).map((a) => a.join(""));
const attr = fc.constantFrom("CN", "O", "OU", "L", "ST", "STREET", "UID", "SURNAME", "T", "1.2.3.4", "2.5.4.97");
const type = fc.constantFrom<StringType>("utf8", "utf8", "utf8", "bmp", "universal", "t61", "ia5", "printable", "visible");
const ava = fc.tuple(attr, type, text).map(([a, t, v]) => {
  // T61/IA5/Printable/Visible hold single-byte text in these tests; BMP holds the basic plane.
  const fits = t === "utf8" || t === "universal" || (t === "bmp" && ![...v].some((c) => (c.codePointAt(0) as number) > 0xffff)) || ![...v].some((c) => (c.codePointAt(0) as number) > 0xff);
  return [a, fits ? t : "utf8", v] as const;
});
const names = fc.array(fc.array(ava, { minLength: 1, maxLength: 3 }), { maxLength: 5 }) as fc.Arbitrary<RdnSpec[]>;

/** What a rendering must give back for one AVA: its text as that rendering decodes it, or the DER of its value. */
function expectedValue(a: Ava, text: string | undefined): { text: string } | { der: string } {
  return text !== undefined ? { text } : { der: Buffer.from(a.valueDer).toString("hex") };
}

function parsed(p: ParsedAva) {
  return { oid: oidOf(p.type), value: "der" in p.value ? { der: Buffer.from(p.value.der).toString("hex") } : { text: p.value.text } };
}

describe("DN renderings", () => {
  it("are deterministic: the same DER always gives the same three strings", () => {
    fc.assert(fc.property(names, (rdns) => {
      const der = name(rdns);
      expect(renderDn(decodeName(der))).toEqual(renderDn(decodeName(Uint8Array.from(der))));
    }), { numRuns: 300 });
  });

  it("RFC 2253: every value round-trips through the parser", () => {
    fc.assert(fc.property(names, (rdns) => {
      const n = decodeName(name(rdns));
      const back = parseDn(rfc2253Dn(n)).reverse();
      expect(back.map((r) => r.map(parsed))).toEqual(n.rdns.map((r) => r.map((a) => ({ oid: a.oid, value: expectedValue(a, rfc2253Text(a)) }))));
    }), { numRuns: 500 });
  });

  it("legacy (getSubjectDN().toString()): every value round-trips, except the JDK's own ambiguity of values already in quotes", () => {
    const unambiguous = names.filter((rdns) => rdns.flat().every(([, , v]) => typeof v !== "string" || !(v.length > 1 && v.startsWith('"') && v.endsWith('"'))));
    fc.assert(fc.property(unambiguous, (rdns) => {
      const n = decodeName(name(rdns));
      const back = parseDn(legacyDn(n)).reverse();
      expect(back.map((r) => r.map(parsed))).toEqual(n.rdns.map((r) => r.map((a) => ({ oid: a.oid, value: expectedValue(a, jdkString(a.tag, a.content)) }))));
    }), { numRuns: 500 });
  });
});
