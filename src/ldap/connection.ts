// One realm's connection to its LDAP servers, with ldapts: the URLs tried in order (failover), ldaps:// or StartTLS
// against the configured CA bundle, the service account bound once and the connection reused by every search until
// it breaks. Password checks bind as the user on a connection of their own, so the shared one keeps its identity.
// Every failure that is not an answer ("no such user") becomes an LdapUnavailableError naming the server.
import type { ConnectionOptions } from "node:tls";
import { Client, InvalidCredentialsError, ResultCodeError, SizeLimitExceededError, type Filter } from "ldapts";

export class LdapUnavailableError extends Error {}

export interface LdapConnectionOptions {
  urls: string[];
  startTls: boolean;
  /** PEM bundle for the server's certificate; undefined: Node's built-in CA list. */
  ca: string | undefined;
  bindDn: string | undefined;
  bindCredential: string | undefined;
  connectTimeoutMs: number;
  timeoutMs: number;
}

export interface SearchRequest {
  base: string;
  scope: "base" | "one" | "sub";
  filter: Filter;
  attributes: string[];
  /** Attributes read as bytes (certificates), whatever their name. */
  binaryAttributes: string[];
  sizeLimit: number;
}

export type RawEntry = Record<string, string | string[] | Buffer | Buffer[]> & { dn: string };

/** A search's entries; `truncated`: the server had more than sizeLimit. */
export interface SearchAnswer {
  entries: RawEntry[];
  truncated: boolean;
}

const describe = (e: unknown) => (e instanceof Error ? e.message || e.name : String(e)).replace(/\s+/g, " ").slice(0, 300);

export class LdapConnection {
  readonly #o: LdapConnectionOptions;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  /** The URL that answered last: tried first next time. */
  #current = 0;
  #closed = false;

  constructor(options: LdapConnectionOptions) {
    this.#o = options;
  }

  /** The server in use (for messages and `ldap test`). */
  get url(): string {
    return this.#o.urls[this.#current] as string;
  }

  #tls(url: string): ConnectionOptions {
    return { ...(this.#o.ca !== undefined && { ca: this.#o.ca }), servername: new URL(url).hostname, minVersion: "TLSv1.2" };
  }

  #newClient(url: string): Client {
    return new Client({
      url,
      timeout: this.#o.timeoutMs,
      connectTimeout: this.#o.connectTimeoutMs,
      ...(url.toLowerCase().startsWith("ldaps:") && { tlsOptions: this.#tls(url) }),
    });
  }

  /** A connection to `url`, upgraded and bound as the service account (or anonymous). */
  async #open(url: string, dn = this.#o.bindDn, password = this.#o.bindCredential): Promise<Client> {
    const client = this.#newClient(url);
    try {
      if (this.#o.startTls) await client.startTLS(this.#tls(url));
      if (dn !== undefined) await client.bind(dn, password ?? "");
      else await client.search("", { scope: "base", attributes: ["1.1"], sizeLimit: 1 }); // connects, checks the server answers
      return client;
    } catch (e) {
      await client.unbind().catch(() => undefined);
      throw e;
    }
  }

  /** Connects to the first URL that answers, starting from the one that answered last. */
  async #connect(): Promise<Client> {
    const n = this.#o.urls.length;
    const failures: string[] = [];
    for (let k = 0; k < n; k++) {
      const i = (this.#current + k) % n;
      const url = this.#o.urls[i] as string;
      try {
        const client = await this.#open(url);
        this.#current = i;
        return client;
      } catch (e) {
        if (e instanceof InvalidCredentialsError) throw new LdapUnavailableError(`${url}: the bind DN or credential is not accepted`);
        failures.push(`${url}: ${describe(e)}`);
      }
    }
    throw new LdapUnavailableError(failures.join("; "));
  }

  async #shared(): Promise<Client> {
    if (this.#closed) throw new LdapUnavailableError("the LDAP connection was closed");
    if (this.#client?.isConnected) return this.#client;
    this.#connecting ??= this.#connect().then(
      (c) => {
        this.#connecting = undefined;
        const old = this.#client;
        this.#client = c;
        old?.unbind().catch(() => undefined);
        return c;
      },
      (e: unknown) => {
        this.#connecting = undefined;
        throw e;
      },
    );
    return this.#connecting;
  }

  #drop(client: Client): void {
    if (this.#client === client) this.#client = undefined;
    client.unbind().catch(() => undefined);
  }

  /** Searches on the shared connection; a broken connection is replaced once (the next server when it is down). */
  async search(r: SearchRequest): Promise<SearchAnswer> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.#shared();
      try {
        const { searchEntries } = await client.search(r.base, {
          scope: r.scope,
          filter: r.filter,
          attributes: r.attributes,
          explicitBufferAttributes: r.binaryAttributes,
          sizeLimit: r.sizeLimit,
          timeLimit: Math.max(1, Math.ceil(this.#o.timeoutMs / 1000)),
        });
        return { entries: searchEntries as RawEntry[], truncated: false };
      } catch (e) {
        if (e instanceof SizeLimitExceededError) return { entries: [], truncated: true };
        // An answer from the server (no such base, a refused operation) is not cured by reconnecting.
        if (e instanceof ResultCodeError) throw new LdapUnavailableError(`${this.url}: ${describe(e)}`);
        this.#drop(client);
        // A server that is slow stays slow: one timeout is the answer. A closed connection is tried once more.
        if (attempt >= 1 || /time(d)? ?out/i.test(describe(e))) throw new LdapUnavailableError(`${this.url}: ${describe(e)}`);
      }
    }
  }

  /** Connects and binds (the service account, or anonymously): what `ldap test` checks first. */
  async check(): Promise<{ server: string; bound: string }> {
    await this.#shared();
    return { server: this.url, bound: this.#o.bindDn ?? "anonymous" };
  }

  /**
   * Whether `password` is the password of `dn`: a simple bind on a connection of its own. An empty password is
   * refused here, before any bind (RFC 4513 calls that an unauthenticated bind, which some servers accept).
   */
  async verifyPassword(dn: string, password: string): Promise<boolean> {
    if (password === "") return false;
    await this.#shared(); // the server that answers now
    let client: Client | undefined;
    try {
      client = await this.#open(this.url, dn, password);
      return true;
    } catch (e) {
      if (e instanceof InvalidCredentialsError) return false;
      throw new LdapUnavailableError(`${this.url}: ${describe(e)}`);
    } finally {
      await client?.unbind().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    await client?.unbind().catch(() => undefined);
  }
}
