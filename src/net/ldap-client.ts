// The LDAP side of revocation checking (CRLs published in a directory, as Keycloak's JNDI loader reads them): an
// anonymous base-object read of the attribute an LDAP URL names (RFC 4516: ldap://host:port/<dn>?<attribute>), with
// ldapts. The DN and attribute come from the URL, never from string-built filters.
import { Client, PresenceFilter } from "ldapts";
import { FetchError, type FetchLimits, type LdapClient } from "../x509/revocation/fetch.ts";

export function ldapUrlParts(url: URL): { server: string; dn: string; attribute: string } {
  const [attributes = ""] = url.search.replace(/^\?/, "").split("?");
  const attribute = decodeURIComponent(attributes.split(",")[0] ?? "") || "certificateRevocationList;binary";
  return { server: `${url.protocol}//${url.host}`, dn: decodeURIComponent(url.pathname.replace(/^\//, "")), attribute };
}

export function ldapClient(): LdapClient {
  return {
    async readAttribute(url: URL, limits: FetchLimits): Promise<Uint8Array> {
      const refused = limits.refuse(url);
      if (refused) throw new FetchError("NOT_ALLOWED", refused);
      const { server, dn, attribute } = ldapUrlParts(url);
      const client = new Client({ url: server, timeout: limits.timeoutMs, connectTimeout: limits.timeoutMs });
      try {
        const { searchEntries } = await client.search(dn, {
          scope: "base",
          filter: new PresenceFilter({ attribute: "objectClass" }),
          attributes: [attribute],
          explicitBufferAttributes: [attribute],
          sizeLimit: 1,
          timeLimit: Math.ceil(limits.timeoutMs / 1000),
        });
        const raw = searchEntries[0]?.[attribute];
        const value = Array.isArray(raw) ? raw[0] : raw;
        if (!value || !(value instanceof Buffer) || value.length === 0) throw new FetchError("NOT_FOUND", `${url.href}: the entry has no ${attribute}`);
        if (value.length > limits.maxBytes) throw new FetchError("TOO_LARGE", `${url.href}: ${attribute} is larger than ${limits.maxBytes} bytes`);
        return new Uint8Array(value.buffer, value.byteOffset, value.length);
      } catch (e) {
        if (e instanceof FetchError) throw e;
        const message = (e as Error).message ?? String(e);
        throw new FetchError(/timeout|timed out/i.test(message) ? "TIMEOUT" : "NETWORK", `${url.href}: ${message}`, { cause: e });
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
  };
}
