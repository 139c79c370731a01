// The X.509 core's public surface. Nothing here imports a web framework, oidc-provider, Prisma or ldapts: callers
// hand in certificates, options and small interfaces, and get plain results back.
export { Certificate, type Extension, type PublicKeyFacts } from "./certificate.ts";
export { parseCertificate, parseCertificates, certificateDers, DEFAULT_LIMITS, type ParseLimits } from "./parse.ts";
export { renderDn, legacyDn, canonicalDn, rfc2253Dn, type DnRenderings } from "./dn.ts";
export { decodeName, type Name, type Rdn, type Ava } from "./name.ts";
export { serialDecimal, serialHex } from "./serial.ts";
export { CertificateParseError, X509ConfigError, type ParseErrorCode } from "./errors.ts";
export { KEYS, DEFAULT_REGEX, DELIMITER, parseIdentityOptions, splitDelimited, type IdentityOptions, type MapperId, type ConfigMap } from "./options.ts";
export { IDENTITY_SOURCES, findIdentitySource, identitySource, type IdentitySource, type IdentitySourceId } from "./identity/sources.ts";
export { extractIdentity, type IdentityResult, type IdentityFailure } from "./identity/extract.ts";
export { mapIdentityToUser, DirectoryDuplicateError, DirectoryUnavailableError, type DirectoryUser, type UserDirectory, type MappingResult } from "./identity/mapping.ts";
export { Pattern, MAX_PROGRAM, STEP_BUDGET } from "./regex/pattern.ts";
export { KEY_USAGE_BITS, EKU, EKU_NAMES, OTHER_NAME, ATTR, EXT } from "./oids.ts";
export { parseAuthenticatorConfig, ALL_KEYS, FLOW_KEYS, type AuthenticatorConfig } from "./config.ts";
export { VALIDATION_KEYS, parseValidationOptions, type ValidationOptions, type CrlLocation, type PolicyMode } from "./validation/options.ts";
export { validateChain, type ValidationContext } from "./validation/validate.ts";
export { type ValidationOutcome, type ValidationFailure, type ValidationSuccess, type ValidationCode } from "./validation/outcome.ts";
export { TrustStore, type TrustedCertificate } from "./trust/trust-store.ts";
export { buildPath, MAX_PATH_LENGTH } from "./trust/path.ts";
export { RevocationChecker, type RevocationEnvironment } from "./revocation/checker.ts";
export { CrlCache, type CrlCacheOptions } from "./revocation/crl-cache.ts";
export { OcspCache } from "./revocation/ocsp-cache.ts";
export { Crl, parseCrl, CrlError } from "./revocation/crl.ts";
export { FetchError, fetchRule, type HttpClient, type LdapClient, type FetchLimits } from "./revocation/fetch.ts";
export { auditIdentity, authenticateCertificate, certificateAudit, failureDetails, type CertificateLoginOutcome, type CertificateLoginFailure, type CertificateLoginSuccess, type CertificateLoginDeps, type NewUserFromCertificate } from "./authenticator.ts";
export { createLookup, LOOKUP_IDS, LOOKUP_OPTIONS, MAX_CHAIN_LENGTH, MAX_HEADER_BYTES, type LookupId, type CertificateLookup, type HeaderFields, type LookupResult, type LookupErrorCode } from "./lookup/index.ts";
export { CLIENT_CERT_KEYS, SUBJECT_KEYS, SUBJECT_LABEL, canonicalIp, issuerAllowed, parseClientCertificateRule, subjectMatches, type ClientCertificateRule, type SubjectRule } from "./client-auth.ts";
export { nameMatches, parseWrittenDn, type WrittenDn, type DnComparison } from "./dn-match.ts";
