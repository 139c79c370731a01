// The lookup providers and their options: one table, the single source of truth for names, defaults and checks
// (README "Reverse proxies" is written from it). Option names are Keycloak's CLI names
// (`--spi-x509cert-lookup--<provider>--<option>`); defaults are Keycloak's where Keycloak has the provider, except
// that the certificate header has a working default instead of Keycloak's empty one.
import { X509ConfigError } from "../errors.ts";

export const LOOKUP_IDS = ["tls", "nginx", "haproxy", "apache", "traefik", "envoy", "rfc9440", "aws-alb"] as const;
export type LookupId = (typeof LOOKUP_IDS)[number];
export type HeaderLookupId = Exclude<LookupId, "tls">;

type Kind = "header" | "count" | "boolean" | "uris";
interface OptionSpec {
  kind: Kind;
  default: string | undefined;
}

const header = (d: string | undefined): OptionSpec => ({ kind: "header", default: d });
const count = (d: number): OptionSpec => ({ kind: "count", default: String(d) });
const bool = (d: boolean): OptionSpec => ({ kind: "boolean", default: String(d) });

/** Most chain certificates any provider accepts (the path builder's own limit is the same). */
export const MAX_CHAIN_LENGTH = 10;

export const LOOKUP_OPTIONS: Record<HeaderLookupId, Record<string, OptionSpec>> = {
  nginx: {
    "ssl-client-cert": header("ssl-client-cert"),
    "ssl-cert-chain-prefix": header(undefined),
    "certificate-chain-length": count(1),
    "cert-is-url-encoded": bool(true),
    "trust-proxy-verification": bool(false),
    "ssl-client-verify": header("ssl-client-verify"),
  },
  apache: {
    "ssl-client-cert": header("SSL_CLIENT_CERT"),
    "ssl-cert-chain-prefix": header(undefined),
    "certificate-chain-length": count(1),
  },
  haproxy: {
    "ssl-client-cert": header("Client-Cert"),
    "ssl-cert-chain": header("Client-Cert-Chain"),
    "ssl-cert-chain-prefix": header(undefined),
    "certificate-chain-length": count(1),
  },
  traefik: {
    "ssl-client-cert": header("X-Forwarded-Tls-Client-Cert"),
    "cert-is-url-encoded": bool(false),
    "certificate-chain-length": count(1),
  },
  envoy: {
    "ssl-client-cert": header("X-Forwarded-Client-Cert"),
    "certificate-chain-length": count(MAX_CHAIN_LENGTH - 1),
    "trusted-proxy-uris": { kind: "uris", default: "" },
  },
  rfc9440: {
    "ssl-client-cert": header("Client-Cert"),
    "ssl-cert-chain": header("Client-Cert-Chain"),
    "certificate-chain-length": count(1),
  },
  "aws-alb": {
    "ssl-client-cert": header("X-Amzn-Mtls-Clientcert"),
    "ssl-client-cert-leaf": header("X-Amzn-Mtls-Clientcert-Leaf"),
    "certificate-chain-length": count(MAX_CHAIN_LENGTH - 1),
  },
};

/** An HTTP field name (RFC 9110 §5.1 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface LookupOptions {
  /** Header names in lower case (Node's spelling). */
  headers: Record<string, string | undefined>;
  chainLength: number;
  flags: Record<string, boolean>;
  uris: string[];
}

export function isLookupId(id: string): id is LookupId {
  return (LOOKUP_IDS as readonly string[]).includes(id);
}

/** Checks every given option against the provider's table and fills in the defaults. */
export function parseLookupOptions(id: HeaderLookupId, given: Readonly<Record<string, string>>): LookupOptions {
  const specs = LOOKUP_OPTIONS[id];
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(specs, key)) throw new X509ConfigError(key, `not an option of the ${id} lookup (its options: ${Object.keys(specs).join(", ")})`);
  }
  const out: LookupOptions = { headers: {}, chainLength: 1, flags: {}, uris: [] };
  for (const [key, spec] of Object.entries(specs)) {
    const raw = (given[key] ?? spec.default)?.trim();
    switch (spec.kind) {
      case "header":
        if (raw !== undefined && raw !== "" && !TOKEN.test(raw)) throw new X509ConfigError(key, `"${raw}" is not a header name`);
        out.headers[key] = raw === undefined || raw === "" ? undefined : raw.toLowerCase();
        break;
      case "count": {
        const n = Number(raw);
        if (!/^\d+$/.test(raw ?? "") || n > MAX_CHAIN_LENGTH) throw new X509ConfigError(key, `must be a whole number from 0 to ${MAX_CHAIN_LENGTH}`);
        out.chainLength = n;
        break;
      }
      case "boolean":
        if (raw !== "true" && raw !== "false") throw new X509ConfigError(key, "must be true or false");
        out.flags[key] = raw === "true";
        break;
      case "uris":
        out.uris = (raw ?? "").split(",").map((u) => u.trim()).filter((u) => u !== "");
        break;
    }
  }
  if (out.headers["ssl-client-cert"] === undefined) throw new X509ConfigError("ssl-client-cert", "the certificate header name is required");
  return out;
}
