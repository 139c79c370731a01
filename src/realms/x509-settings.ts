// A realm's X.509 settings as the flows use them: each flow's authenticator configuration parsed once (it was
// validated when saved) and the trust store built once, per realm version (the registry rebuilds on change).
import type { X509Representation } from "../admin/representation.ts";
import { parseAuthenticatorConfig, TrustStore, type AuthenticatorConfig } from "../x509/index.ts";

export interface X509Flow {
  enabled: boolean;
  /** Undefined: the flow is enabled without a configuration (Keycloak: "has not been configured yet"). */
  config: AuthenticatorConfig | undefined;
}

export interface X509Settings {
  browser: X509Flow;
  directGrant: X509Flow;
  trust: TrustStore;
}

function flow(f: X509Representation["browser"] | undefined): X509Flow {
  return { enabled: f?.enabled === true, config: f?.config ? parseAuthenticatorConfig(f.config) : undefined };
}

export function loadX509Settings(rep: X509Representation | null): X509Settings {
  return {
    browser: flow(rep?.browser),
    directGrant: flow(rep?.directGrant),
    trust: TrustStore.fromPem(rep?.trustAnchors ?? [], "x509.trustAnchors"),
  };
}
