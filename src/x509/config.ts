// An X.509 authenticator configuration as a whole: Keycloak's key/value map (an "authenticatorConfig" entry of a
// realm export imports unchanged) parsed into identity, validation and flow options, once, when it is saved.
import { X509ConfigError } from "./errors.ts";
import { KEYS, parseIdentityOptions, type ConfigMap, type IdentityOptions } from "./options.ts";
import { parseValidationOptions, VALIDATION_KEYS, type ValidationOptions } from "./validation/options.ts";

export const FLOW_KEYS = {
  /** Browser flow: log in without the "You will be logged in as…" page. */
  bypassConfirmation: "x509-cert-auth.confirmation-page-disallowed",
} as const;

/** Every key x509-idp reads. */
export const ALL_KEYS: readonly string[] = [...Object.values(KEYS), ...Object.values(VALIDATION_KEYS), ...Object.values(FLOW_KEYS)];

export interface AuthenticatorConfig {
  identity: IdentityOptions;
  validation: ValidationOptions;
  bypassConfirmation: boolean;
  /** Keys of the map that x509-idp does not read (kept, reported, not refused: newer Keycloak versions add keys). */
  ignoredKeys: string[];
}

export function parseAuthenticatorConfig(config: ConfigMap): AuthenticatorConfig {
  for (const [k, v] of Object.entries(config)) {
    if (v !== undefined && typeof v !== "string") throw new X509ConfigError(k, "values are strings, as in Keycloak's authenticator configurations");
  }
  const bypass = (config[FLOW_KEYS.bypassConfirmation] ?? "").trim().toLowerCase();
  if (bypass !== "" && bypass !== "true" && bypass !== "false") throw new X509ConfigError(FLOW_KEYS.bypassConfirmation, `expected "true" or "false", got "${config[FLOW_KEYS.bypassConfirmation]}"`);
  return {
    identity: parseIdentityOptions(config),
    validation: parseValidationOptions(config),
    bypassConfirmation: bypass === "true",
    ignoredKeys: Object.keys(config).filter((k) => !ALL_KEYS.includes(k)),
  };
}
