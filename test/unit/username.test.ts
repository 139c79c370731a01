// Username rules (issue #11, item 7): Keycloak's default user profile (prohibited characters, IDN homographs) and
// what it lets through (dotless ı, fullwidth and styled letters, invisible characters).
import { describe, expect, it } from "vitest";
import { usernameProblem } from "../../src/users/username.ts";

describe("usernames people can tell apart", () => {
  it.each([
    "alice", "test-user@localhost", "first.last", "user_name", "user+tag@example.org", "x", "4105", "josé", "müller", "strauß", "françois", "łukasz",
    "fresh.user", "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
  ])("%s is a username", (u) => {
    expect(usernameProblem(u)).toBeUndefined();
  });

  it.each([
    ["admin\u0000", /control character/],
    ["ad\u0007min", /control character/],
    ["ad\u200bmin", /invisible formatting/], // zero-width space
    ["ad\u200dmin", /invisible formatting/], // zero-width joiner
    ["admin\u202e", /invisible formatting/], // right-to-left override
    ["\u2066admin", /invisible formatting/], // left-to-right isolate
    ["\ufeffadmin", /invisible formatting/], // BOM
    ["admin\u00ad", /invisible formatting/], // soft hyphen
    ["ad\ud800min", /lone surrogate/],
    ["admin\udc00", /lone surrogate/],
    ["ad min", /space/],
    ["ad\u00a0min", /space/],
    ["ad\u3000min", /space/],
    ["ad\ue000min", /private-use/],
    ["ad\u0378min", /unassigned/],
    ["ａｄｍｉｎ", /compatibility form/], // fullwidth
    ["𝐚𝐝𝐦𝐢𝐧", /compatibility form/], // mathematical bold
    ["ﬁnance", /compatibility form/], // ligature
    ["jose\u0301", /compatibility form|decomposed/], // e + combining acute
    ["admın", /U\+0131.*homograph/], // dotless i
    ["ſam", /compatibility form/], // long s: NFKC makes it s
    ["ĸate", /U\+0138/],
    ["ɑdmin", /U\+0251/],
    ["ᴀdmin", /U\+1D00/],
    ["ǀog", /U\+01C0/],
    ["аdmin", /script other than Latin/], // Cyrillic а
    ["αdmin", /script other than Latin/], // Greek α
    ["аррӏе", /script other than Latin/], // all Cyrillic
    ["ad\u2010min", /U\+2010/], // hyphen that is not -
    ["ad\u2024min", /U\+2024|compatibility/], // one dot leader
    ["a§b", /U\+00A7/],
    ["<script>", /"<"/],
    ["a&b", /"&"/],
    ["o'neil", /"'"/],
    ["a/b", /"\/"/],
    ["domain\\user", /"\\"/],
    ["a:b", /":"/],
    ["a=b", /"="/],
    ["a(b)", /"\("/],
  ])("%j is refused (%s)", (u, why) => {
    expect(usernameProblem(u)).toMatch(why);
  });

  it("a directory's names keep ASCII punctuation (Active Directory's o'brien), and nothing else", () => {
    expect(usernameProblem("o'brien", { asciiPunctuation: false })).toBeUndefined();
    expect(usernameProblem("a:b", { asciiPunctuation: false })).toBeUndefined();
    expect(usernameProblem("admın", { asciiPunctuation: false })).toMatch(/homograph/);
    expect(usernameProblem("ad\u200bmin", { asciiPunctuation: false })).toMatch(/invisible/);
  });
});
