// What revocation checking needs from the outside world, as small interfaces (implemented in src/net/ with
// node:http and ldapts; tests may pass their own), and the rules every outgoing request follows: http, https, ldap
// and ldaps only, an optional host allow-list, a timeout and a size cap. Only URLs from certificates of a verified
// path, or from the configuration, ever reach these functions: validation checks trust first.
import fs from "node:fs";
import path from "node:path";

/** REMEMBERED: not asked now, because an earlier attempt failed (RememberedFailure). */
export type FetchErrorCode = "NOT_ALLOWED" | "TIMEOUT" | "TOO_LARGE" | "HTTP_STATUS" | "NETWORK" | "NOT_FOUND" | "REMEMBERED";

export class FetchError extends Error {
  readonly code: FetchErrorCode;
  constructor(code: FetchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A failure an earlier attempt met, answered again without asking (a negative cache): a CRL location or an OCSP
 * responder that failed is not asked again before `until`, so a server that is down or hangs costs one login the
 * timeout, not every login.
 */
export class RememberedFailure extends FetchError {
  readonly until: number;
  constructor(original: Error, until: number) {
    super("REMEMBERED", `${original.message} (an earlier attempt failed; not tried again before ${new Date(until).toISOString()})`, { cause: original });
    this.until = until;
  }
}

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  /** Checked for the first URL and for every redirect: a message when the URL may not be fetched. */
  refuse(url: URL): string | undefined;
}

export interface HttpClient {
  get(url: URL, headers: Record<string, string>, limits: FetchLimits): Promise<Uint8Array>;
  post(url: URL, body: Uint8Array, headers: Record<string, string>, limits: FetchLimits): Promise<Uint8Array>;
}

export interface LdapClient {
  /** The first value of the attribute an LDAP URL names (RFC 4516: ldap://host/dn?attribute), as bytes. */
  readAttribute(url: URL, limits: FetchLimits): Promise<Uint8Array>;
}

const SCHEMES = new Set(["http:", "https:", "ldap:", "ldaps:"]);

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443", "ldap:": "389", "ldaps:": "636" };

/** "host", "*.domain", "[v6]", each optionally with ":port". */
function hostPattern(p: string): { host: string; wildcard: boolean; port: string | undefined } {
  const m = /^(.*?)(?::(\d+))?$/.exec(p) as RegExpExecArray;
  const host = m[1] as string;
  return host.startsWith("*.") ? { host: host.slice(2), wildcard: true, port: m[2] } : { host, wildcard: false, port: m[2] };
}

/** The host-and-scheme rule: refuses other schemes and, with an allow-list, other hosts. */
export function fetchRule(allowedHosts: readonly string[]): (url: URL) => string | undefined {
  const patterns = allowedHosts.map((h) => hostPattern(h.toLowerCase()));
  return (url) => {
    if (!SCHEMES.has(url.protocol)) return `${url.protocol.slice(0, -1)} URLs are not fetched (only http, https, ldap, ldaps)`;
    if (patterns.length === 0) return undefined;
    const host = url.hostname.toLowerCase();
    const port = url.port || (DEFAULT_PORTS[url.protocol] as string);
    const ok = patterns.some((p) => (p.port === undefined || p.port === port) && (p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host));
    return ok ? undefined : `${host}:${port} is not in x509-idp.fetch-allowed-hosts`;
  };
}

/**
 * Reads `relative` inside `dir`, refusing anything that resolves outside it (../, absolute paths, symbolic links
 * pointing out), and files larger than `maxBytes`.
 */
export async function readContainedFile(dir: string, relative: string, maxBytes: number): Promise<Uint8Array> {
  let root: string;
  try {
    root = await fs.promises.realpath(dir);
  } catch (e) {
    throw new FetchError("NOT_FOUND", `the CRL folder ${dir} does not exist`, { cause: e });
  }
  const target = path.resolve(root, relative);
  let real: string;
  try {
    real = await fs.promises.realpath(target);
  } catch (e) {
    throw new FetchError("NOT_FOUND", `${target} does not exist`, { cause: e });
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw new FetchError("NOT_ALLOWED", `${relative} resolves outside the CRL folder ${root}`);
  const stat = await fs.promises.stat(real);
  if (!stat.isFile()) throw new FetchError("NOT_FOUND", `${real} is not a file`);
  if (stat.size > maxBytes) throw new FetchError("TOO_LARGE", `${real} is larger than ${maxBytes} bytes`);
  return new Uint8Array(await fs.promises.readFile(real));
}
