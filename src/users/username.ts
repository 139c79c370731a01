// Usernames are read by people (in consoles, logs, tokens' preferred_username): none may pass for another, nor hide
// part of itself. Every path that creates or renames a user checks the name here: the admin API, the CLI, realm and
// Keycloak import, just-in-time provisioning and the linking of LDAP entries. The model is Keycloak's default user
// profile (up-username-not-idn-homograph, username-prohibited-characters), with what it lets through closed:
//   - invisible or malformed text: control characters (NUL included), format characters (zero-width, bidirectional
//     controls), lone surrogates, unassigned and private-use code points, any space;
//   - compatibility forms and unnormalised text (fullwidth ａｄｍｉｎ, styled 𝐚𝐝𝐦𝐢𝐧, ligatures, decomposed accents):
//     the name must be its own NFKC form;
//   - letters of another script than Latin (Keycloak: `^[\p{IsLatin}|\p{IsCommon}]+$`), so Cyrillic а cannot stand
//     for Latin a; and Latin letters drawn like an ASCII letter with nothing to tell them apart (admın with the
//     dotless ı, ſ, ĸ, ɑ, ɡ, ɩ, small capitals, the click letters ǀ ǃ), which Keycloak's rule lets through;
//   - non-ASCII punctuation and symbols (‐ for -, ․ for .), and Keycloak's prohibited ASCII characters (not for an
//     LDAP entry: the directory's own rules decided those).

/** Keycloak's UsernameProhibitedCharactersValidator, ASCII part: markup, URL and shell metacharacters. */
const PROHIBITED_ASCII = /[<>&"'$%!#?,;:*~/\\|^=[\]{}()`]/;
/** Latin letters that look exactly like an ASCII letter (UTS #39 confusables with nothing to tell them apart). */
const ASCII_LOOKALIKES = /[\u0131\u0237\u017f\u0138\u0251\u0261\u0262\u0269\u026a\u0274\u0280\u028f\u0299\u029b\u029c\u029f\u01c0-\u01c3\u1d00-\u1d2b\ua730\ua731]/u;
const LATIN_OR_COMMON = /^[\p{Script=Latin}\p{Script=Common}]+$/u;

/**
 * Why `username` (as stored: lower case) cannot be a username, or undefined when it can. `asciiPunctuation: false`
 * skips Keycloak's ASCII list (visible characters, no homograph risk), for names a directory already holds (Active
 * Directory allows o'brien).
 */
export function usernameProblem(username: string, o: { asciiPunctuation?: boolean } = {}): string | undefined {
  if (!username.isWellFormed()) return "contains a lone surrogate (text that is not valid Unicode)";
  if (/\p{Cc}/u.test(username)) return "contains a control character";
  if (/\p{Cf}/u.test(username)) return "contains an invisible formatting character (zero-width or bidirectional control)";
  if (/[\p{Z}\s]/u.test(username)) return "contains a space";
  if (/[\p{Co}\p{Cn}]/u.test(username)) return "contains an unassigned or private-use character";
  if (username.normalize("NFKC") !== username) return "contains a compatibility form (fullwidth, styled or ligature letters) or a decomposed accent";
  const prohibited = o.asciiPunctuation === false ? null : PROHIBITED_ASCII.exec(username);
  if (prohibited) return `contains "${prohibited[0]}", which is not allowed in usernames (nor < > & " ' $ % ! # ? , ; : * ~ / \\ | ^ = [ ] { } ( ) \`)`;
  for (const ch of username) {
    if (ch > "\u007f" && /[\p{P}\p{S}]/u.test(ch)) return `contains the punctuation or symbol "${ch}" (U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}): only ASCII punctuation is allowed`;
  }
  if (!LATIN_OR_COMMON.test(username)) return "contains letters of a script other than Latin, which can pass for Latin ones (an IDN homograph)";
  const lookalike = ASCII_LOOKALIKES.exec(username);
  if (lookalike) return `contains "${lookalike[0]}" (U+${(lookalike[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}), a letter drawn like an ASCII letter (a homograph)`;
  return undefined;
}
