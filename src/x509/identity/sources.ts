// Where the identity comes from: Keycloak's ten "User Identity Source" values (labels kept verbatim, parsed
// case-insensitively, so Keycloak configurations import unchanged; keycloak-x509.md §2) plus three of x509-idp's.

export type IdentitySourceId =
  | "subject-dn-regex"
  | "subject-email"
  | "san-email"
  | "san-upn"
  | "subject-cn"
  | "issuer-dn-regex"
  | "serial"
  | "serial-issuer-dn"
  | "sha256-thumbprint"
  | "certificate-pem"
  | "san-xmpp"
  | "spki-sha256"
  | "subject-key-id";

export interface IdentitySource {
  id: IdentitySourceId;
  /** The label stored in configurations (Keycloak's exact text for Keycloak's sources). */
  label: string;
  /** Other spellings accepted when reading a configuration. */
  aliases: string[];
  /** Whether Keycloak has this source. */
  keycloak: boolean;
  /** Whether the configured regular expression applies. */
  usesRegex: boolean;
}

export const IDENTITY_SOURCES: readonly IdentitySource[] = [
  { id: "subject-dn-regex", label: "Match SubjectDN using regular expression", aliases: [], keycloak: true, usesRegex: true },
  { id: "subject-email", label: "Subject's e-mail", aliases: [], keycloak: true, usesRegex: false },
  { id: "san-email", label: "Subject's Alternative Name E-mail", aliases: [], keycloak: true, usesRegex: false },
  { id: "san-upn", label: "Subject's Alternative Name otherName (UPN)", aliases: [], keycloak: true, usesRegex: false },
  { id: "subject-cn", label: "Subject's Common Name", aliases: [], keycloak: true, usesRegex: false },
  { id: "issuer-dn-regex", label: "Match IssuerDN using regular expression", aliases: [], keycloak: true, usesRegex: true },
  { id: "serial", label: "Certificate Serial Number", aliases: [], keycloak: true, usesRegex: false },
  { id: "serial-issuer-dn", label: "Certificate Serial Number and IssuerDN", aliases: [], keycloak: true, usesRegex: false },
  { id: "sha256-thumbprint", label: "SHA-256 Thumbprint", aliases: ["SHA-256 Certificate thumbprint"], keycloak: true, usesRegex: false },
  { id: "certificate-pem", label: "Full Certificate in PEM format", aliases: [], keycloak: true, usesRegex: false },
  { id: "san-xmpp", label: "Subject's Alternative Name xmppAddr", aliases: ["xmppAddr"], keycloak: false, usesRegex: false },
  { id: "spki-sha256", label: "SHA-256 of the public key", aliases: ["SPKI SHA-256"], keycloak: false, usesRegex: false },
  { id: "subject-key-id", label: "Subject Key Identifier", aliases: ["SKI"], keycloak: false, usesRegex: false },
];

const byName = new Map<string, IdentitySource>();
for (const s of IDENTITY_SOURCES) for (const name of [s.id, s.label, ...s.aliases]) byName.set(name.toLowerCase(), s);

/** The source a configuration value names (id or label, any case), or undefined. */
export function findIdentitySource(value: string): IdentitySource | undefined {
  return byName.get(value.trim().toLowerCase());
}

export function identitySource(id: IdentitySourceId): IdentitySource {
  return IDENTITY_SOURCES.find((s) => s.id === id) as IdentitySource;
}
