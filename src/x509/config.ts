// An X.509 authenticator configuration as a whole: Keycloak's key/value map (an "authenticatorConfig" entry of a
// realm export imports unchanged) parsed into identity, validation and flow options, once, when it is saved.
import { X509ConfigError } from "./errors.ts";
import { KEYS, parseIdentityOptions, type ConfigMap, type IdentityOptions } from "./options.ts";
import { parseValidationOptions, VALIDATION_KEYS, type ValidationOptions } from "./validation/options.ts";

export const FLOW_KEYS = {
  /** Browser flow: log in without the "You will be logged in as…" page. */
  bypassConfirmation: "x509-cert-auth.confirmation-page-disallowed",
  /** x509-idp, browser flow: the certificate is a second factor; the user's password is asked for too. */
  requirePassword: "x509-idp.require-password",
  /** x509-idp: create the user on the first certificate login when nobody matches (just-in-time provisioning). */
  createUser: "x509-idp.create-user",
  /** x509-idp: with the xmppAddr source, only addresses of this domain are identities. */
  xmppDomain: "x509-idp.xmpp-domain",
} as const;

/** Every key x509-idp reads. */
export const ALL_KEYS: readonly string[] = [...Object.values(KEYS), ...Object.values(VALIDATION_KEYS), ...Object.values(FLOW_KEYS)];

export interface AuthenticatorConfig {
  identity: IdentityOptions;
  validation: ValidationOptions;
  bypassConfirmation: boolean;
  requirePassword: boolean;
  createUser: boolean;
  /** Lower case, without "@". */
  xmppDomain: string | undefined;
  /** Keys of the map that x509-idp does not read (kept, reported, not refused: newer Keycloak versions add keys). */
  ignoredKeys: string[];
}

export function parseAuthenticatorConfig(config: ConfigMap): AuthenticatorConfig {
  for (const [k, v] of Object.entries(config)) {
    if (v !== undefined && typeof v !== "string") throw new X509ConfigError(k, "values are strings, as in Keycloak's authenticator configurations");
  }
  const flag = (key: string): boolean => {
    const v = (config[key] ?? "").trim().toLowerCase();
    if (v !== "" && v !== "true" && v !== "false") throw new X509ConfigError(key, `expected "true" or "false", got "${config[key]}"`);
    return v === "true";
  };
  const domain = (config[FLOW_KEYS.xmppDomain] ?? "").trim().toLowerCase().replace(/^@/, "");
  if (domain !== "" && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
    throw new X509ConfigError(FLOW_KEYS.xmppDomain, `"${config[FLOW_KEYS.xmppDomain]}" is not a domain name`);
  }
  const identity = parseIdentityOptions(config);
  if (domain !== "" && identity.source !== "san-xmpp") {
    throw new X509ConfigError(FLOW_KEYS.xmppDomain, "applies to the xmppAddr identity source only");
  }
  return {
    identity,
    validation: parseValidationOptions(config),
    bypassConfirmation: flag(FLOW_KEYS.bypassConfirmation),
    requirePassword: flag(FLOW_KEYS.requirePassword),
    createUser: flag(FLOW_KEYS.createUser),
    xmppDomain: domain || undefined,
    ignoredKeys: Object.keys(config).filter((k) => !ALL_KEYS.includes(k)),
  };
}
