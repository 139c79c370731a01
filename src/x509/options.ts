// The X.509 authenticator's configuration: Keycloak's key/value map (exact keys and value strings, so a Keycloak
// authenticator config imports unchanged; keycloak-x509.md §2) parsed once into typed options. A bad value is refused
// with an X509ConfigError naming the key, when the configuration is saved, never at login.
//
// Missing keys take Keycloak's *model* defaults (what the server assumes when a key is absent), not the values its
// admin console pre-fills: e.g. a missing mapper key means "Username or Email".
import { z } from "zod";
import { X509ConfigError } from "./errors.ts";
import { findIdentitySource, type IdentitySourceId } from "./identity/sources.ts";
import { Pattern, PatternTooComplexError } from "./regex/pattern.ts";
import { RegexSyntaxError } from "./regex/syntax.ts";

export const KEYS = {
  source: "x509-cert-auth.mapping-source-selection",
  canonicalDn: "x509-cert-auth.canonical-dn-enabled",
  serialHex: "x509-cert-auth.serialnumber-hex-enabled",
  regex: "x509-cert-auth.regular-expression",
  mapper: "x509-cert-auth.mapper-selection",
  attributeNames: "x509-cert-auth.mapper-selection.user-attribute-name",
} as const;

export const DEFAULT_REGEX = "(.*?)(?:$)";
/** Keycloak's delimiter for multi-valued settings and for the serial##issuer identity. */
export const DELIMITER = "##";

export type MapperId = "username-email" | "custom-attribute";

const MAPPERS: Record<string, MapperId> = {
  "username or email": "username-email",
  "username-email": "username-email",
  "custom attribute mapper": "custom-attribute",
  "custom-attribute": "custom-attribute",
};

export interface IdentityOptions {
  source: IdentitySourceId;
  /** Compiled once; applied to the DN for the two regex sources. */
  regex: Pattern;
  canonicalDn: boolean;
  serialHex: boolean;
  mapper: MapperId;
  /** Attribute names for the Custom Attribute Mapper (the config value split on "##"). */
  attributeNames: string[];
}

export type ConfigMap = Readonly<Record<string, string | undefined>>;

/** Java's String.split("##"): no match keeps the whole string; trailing empty parts are dropped. */
export function splitDelimited(s: string): string[] {
  if (!s.includes(DELIMITER)) return [s];
  const parts = s.split(DELIMITER);
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** A Keycloak boolean: "true" or "false" (any case); anything else is refused rather than read as false. */
const bool = () =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return false;
    const t = v.trim().toLowerCase();
    if (t === "true" || t === "false") return t === "true";
    ctx.addIssue({ code: "custom", message: `expected "true" or "false", got "${v}"` });
    return z.NEVER;
  });

const identitySchema = z.object({
  [KEYS.source]: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return "subject-dn-regex" as IdentitySourceId;
    const source = findIdentitySource(v);
    if (source) return source.id;
    ctx.addIssue({ code: "custom", message: `unknown identity source "${v}"` });
    return z.NEVER;
  }),
  [KEYS.canonicalDn]: bool(),
  [KEYS.serialHex]: bool(),
  [KEYS.regex]: z.string().optional().transform((v, ctx) => {
    const src = v === undefined || v === "" ? DEFAULT_REGEX : v;
    try {
      const pattern = new Pattern(src);
      if (pattern.groupCount !== 1) {
        ctx.addIssue({ code: "custom", message: `the expression must contain exactly one capturing group, it has ${pattern.groupCount}` });
        return z.NEVER;
      }
      return pattern;
    } catch (e) {
      if (e instanceof RegexSyntaxError || e instanceof PatternTooComplexError) {
        ctx.addIssue({ code: "custom", message: e.message });
        return z.NEVER;
      }
      throw e;
    }
  }),
  [KEYS.mapper]: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return "username-email" as MapperId;
    const m = MAPPERS[v.trim().toLowerCase()];
    if (m) return m;
    ctx.addIssue({ code: "custom", message: `expected "Custom Attribute Mapper" or "Username or Email", got "${v}"` });
    return z.NEVER;
  }),
  [KEYS.attributeNames]: z.string().optional().transform((v) => splitDelimited(v === undefined || v === "" ? "usercertificate" : v)),
});

/** Parses the identity part of an authenticator configuration; throws X509ConfigError naming the first bad key. */
export function parseIdentityOptions(config: ConfigMap): IdentityOptions {
  const res = identitySchema.safeParse(config);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new X509ConfigError(String(issue?.path[0] ?? "config"), issue?.message ?? "invalid value");
  }
  const c = res.data;
  const options: IdentityOptions = {
    source: c[KEYS.source],
    regex: c[KEYS.regex],
    canonicalDn: c[KEYS.canonicalDn],
    serialHex: c[KEYS.serialHex],
    mapper: c[KEYS.mapper],
    attributeNames: c[KEYS.attributeNames],
  };
  if (options.mapper === "custom-attribute" && (options.attributeNames.length === 0 || options.attributeNames.some((n) => n.trim() === ""))) {
    throw new X509ConfigError(KEYS.attributeNames, "attribute names must not be empty");
  }
  return options;
}
