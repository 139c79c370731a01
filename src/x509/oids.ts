// Object identifiers x509-idp reads, with the names admins write in configurations.

/** Attribute types (X.520, RFC 4519, PKCS #9) and the JDK's keywords for them. */
export const ATTR = {
  CN: "2.5.4.3",
  SURNAME: "2.5.4.4",
  SERIALNUMBER: "2.5.4.5",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  STREET: "2.5.4.9",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  T: "2.5.4.12",
  GIVENNAME: "2.5.4.42",
  INITIALS: "2.5.4.43",
  GENERATION: "2.5.4.44",
  DNQ: "2.5.4.46",
  UID: "0.9.2342.19200300.100.1.1",
  DC: "0.9.2342.19200300.100.1.25",
  EMAILADDRESS: "1.2.840.113549.1.9.1",
  /** Sun's "IP" attribute, in the JDK's keyword table. */
  IP: "1.3.6.1.4.1.42.2.11.2.1",
} as const;

/** Certificate extensions (RFC 5280 §4.2). */
export const EXT = {
  SUBJECT_KEY_ID: "2.5.29.14",
  KEY_USAGE: "2.5.29.15",
  SUBJECT_ALT_NAME: "2.5.29.17",
  ISSUER_ALT_NAME: "2.5.29.18",
  BASIC_CONSTRAINTS: "2.5.29.19",
  NAME_CONSTRAINTS: "2.5.29.30",
  CRL_DISTRIBUTION_POINTS: "2.5.29.31",
  CERTIFICATE_POLICIES: "2.5.29.32",
  POLICY_MAPPINGS: "2.5.29.33",
  AUTHORITY_KEY_ID: "2.5.29.35",
  POLICY_CONSTRAINTS: "2.5.29.36",
  EXT_KEY_USAGE: "2.5.29.37",
  INHIBIT_ANY_POLICY: "2.5.29.54",
  AUTHORITY_INFO_ACCESS: "1.3.6.1.5.5.7.1.1",
} as const;

/** otherName types in subjectAltName. */
export const OTHER_NAME = {
  /** Microsoft User Principal Name. */
  UPN: "1.3.6.1.4.1.311.20.2.3",
  /** id-on-xmppAddr (RFC 6120 §13.7.1.4, XEP-0178). */
  XMPP_ADDR: "1.3.6.1.5.5.7.8.5",
} as const;

/** Access methods of the Authority Information Access extension (RFC 5280 §4.2.2.1). */
export const ACCESS = {
  OCSP: "1.3.6.1.5.5.7.48.1",
  CA_ISSUERS: "1.3.6.1.5.5.7.48.2",
} as const;

/** Key usage bit names, in bit order (RFC 5280 §4.2.1.3; Keycloak's names). */
export const KEY_USAGE_BITS = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

/** Extended key usage names and OIDs (RFC 5280 §4.2.1.12, RFC 6960 §4.2.2.2). */
export const EKU: Record<string, string> = {
  anyExtendedKeyUsage: "2.5.29.37.0",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  codeSigning: "1.3.6.1.5.5.7.3.3",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  OCSPSigning: "1.3.6.1.5.5.7.3.9",
  smartcardLogon: "1.3.6.1.4.1.311.20.2.2",
};

export const EKU_NAMES: Record<string, string> = Object.fromEntries(Object.entries(EKU).map(([n, o]) => [o, n]));

/** Public key algorithms. */
export const KEY_ALG: Record<string, string> = {
  "1.2.840.113549.1.1.1": "RSA",
  "1.2.840.10045.2.1": "EC",
  "1.3.101.112": "Ed25519",
  "1.3.101.113": "Ed448",
  "1.2.840.10040.4.1": "DSA",
};

export const CURVES: Record<string, string> = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};
