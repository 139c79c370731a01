// Redirect URI rules (RFC 6749 §3.1.2, RFC 9700 §4.1, Keycloak's RedirectUtils), for redirect_uri at the
// authorization endpoint and PAR, post_logout_redirect_uri at logout, and the URIs a client registers.
//
// A URI is refused before any matching when it could be read two ways: a fragment; a dot segment ("." or "..", raw
// or percent-encoded, however often encoded: Keycloak decodes up to five times); an encoded slash or backslash; a
// backslash, control character or space (URL parsers drop tabs and newlines, so ".\t." is ".."); userinfo
// (`https://app@evil.test`). What is left has one meaning, so the browser goes exactly where it was matched.
//
// Matching is Keycloak's: a registered URI matches itself exactly; one ending in `*` matches URIs starting with the
// part before the `*` (the query is not compared), and the part without its trailing slash. Unlike Keycloak before
// CVE-2023-6291 the wildcard is compared on the parsed URL and never crosses the origin: scheme, host and port must be
// the registered ones (`https://a.example*` does not allow `https://a.example.evil.test`).

const MAX_DECODING = 5;
const SPECIAL = /^(https?|wss?|ftp|file):$/i;

/** The part before the query (scheme, authority, path), decoded as often as it decodes; undefined when malformed. */
function decodedLevels(beforeQuery: string): string[] | undefined {
  const levels = [beforeQuery];
  let current = beforeQuery;
  for (let i = 0; i < MAX_DECODING; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    if (next === current) return levels;
    levels.push(next);
    current = next;
  }
  return undefined; // still encoded after five decodings: nobody needs that
}

/** Whether `uri` (a requested or registered redirect URI, without a trailing `*`) has one reading only. */
export function isUnambiguousUri(uri: string): boolean {
  if (uri.length === 0 || uri.length > 2048) return false;
  if (/[\u0000-\u0020\u007f#\\]/.test(uri)) return false;
  const q = uri.indexOf("?");
  const levels = decodedLevels(q === -1 ? uri : uri.slice(0, q));
  if (!levels) return false;
  for (const level of levels) {
    if (/%(2f|5c)/i.test(level) || /[\u0000-\u0020\u007f#\\]/.test(level)) return false;
    const path = level.replace(/^[a-z][a-z0-9+.-]*:(\/\/[^/]*)?/i, "");
    if (path.split("/").some((segment) => segment === "." || segment === "..")) return false;
  }
  if (!URL.canParse(uri)) return false;
  const u = new URL(uri);
  return u.username === "" && u.password === "";
}

function wildcardMatches(prefix: string, value: string): boolean {
  if (!URL.canParse(value)) return false;
  const got = new URL(value);
  if (!SPECIAL.test(got.protocol)) {
    // Custom schemes (native apps) are not normalised by URL parsers: compared as text, the scheme included.
    const bare = value.split("?")[0] ?? "";
    return bare.startsWith(prefix) || (prefix.endsWith("/") && bare === prefix.slice(0, -1));
  }
  if (!URL.canParse(prefix)) return false;
  const want = new URL(prefix);
  if (want.protocol !== got.protocol || want.host !== got.host) return false;
  const path = got.pathname;
  const wanted = want.pathname;
  return path.startsWith(wanted) || (wanted.length > 1 && wanted.endsWith("/") && path === wanted.slice(0, -1));
}

/** Whether `value` is allowed by one of the client's `registered` redirect URIs. */
export function redirectUriMatches(registered: readonly string[], value: string): boolean {
  if (!isUnambiguousUri(value)) return false;
  for (const r of registered) {
    if (r === value) return true;
    if (r.endsWith("*") && wildcardMatches(r.slice(0, -1), value)) return true;
  }
  return false;
}
