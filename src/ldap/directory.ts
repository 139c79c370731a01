// A realm's LDAP users: searches built from ldapts filter objects only (values travel as raw BER octets, so `*`,
// `)(` or NUL in a username or a certificate field cannot change a filter), entries read into plain objects.
// Certificates are compared here, byte for byte: an LDAP server's certificate equality (certificateExactMatch) looks
// at serial and issuer only, so its answer is a candidate list, never the decision.
import { AndFilter, EqualityFilter, OrFilter, PresenceFilter, type Filter } from "ldapts";
import type { LdapRepresentation } from "../admin/representation.ts";
import { CertificateParseError, DEFAULT_LIMITS, parseCertificates, type Certificate, type Name } from "../x509/index.ts";
import { LdapConnection, type RawEntry } from "./connection.ts";

export type LdapSettings = Omit<LdapRepresentation, "bindCredential">;

/** An LDAP user as x509-idp keeps it: profile and the mapped (non-certificate) attributes. */
export interface LdapUser {
  dn: string;
  /** The uuid attribute's value: the link to the local record. */
  id: string;
  username: string;
  email: string | undefined;
  firstName: string | undefined;
  lastName: string | undefined;
  enabled: boolean;
  /** Mapped attributes by their x509-idp name (certificate attributes excluded: they are never stored). */
  attributes: Record<string, string[]>;
}

/** A lookup's result: the users found, or that more than `limit` matched. */
export type LdapMatch = { users: LdapUser[]; truncated: boolean };

/** A (name, value) pair to find: `name` is an x509-idp attribute name (a mapper's, or username / email). */
export interface AttributePair {
  name: string;
  value: string;
}

const USERNAME = /^[^\s]{1,255}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function strings(raw: RawEntry[string] | undefined): string[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v)));
}

function buffers(raw: RawEntry[string] | undefined): Buffer[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), "utf8")));
}

/**
 * The entry's attribute, found ignoring case (servers answer with their own spelling), and with the ";binary"
 * transfer option a server adds to certificate attributes (asked for userCertificate, OpenLDAP answers
 * userCertificate;binary).
 */
function attribute(entry: RawEntry, name: string): RawEntry[string] | undefined {
  if (Object.hasOwn(entry, name)) return entry[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(entry)) if (k.toLowerCase() === lower || k.toLowerCase() === `${lower};binary`) return entry[k];
  return undefined;
}

/** The DER certificates an attribute value holds: DER itself, or PEM / single-line base64 text. */
function certificatesOf(value: Buffer, form: "der" | "pem"): Uint8Array[] {
  try {
    const input = form === "der" ? new Uint8Array(value) : value.toString("utf8");
    return parseCertificates(input, { ...DEFAULT_LIMITS, maxCertificates: 10, maxCertificateBytes: 64 * 1024, maxInputBytes: 1024 * 1024 }).map((c) => c.der);
  } catch (e) {
    if (e instanceof CertificateParseError) return [];
    throw e;
  }
}

/**
 * The text renderings of a certificate an LDAP string attribute may hold: Keycloak's single-line base64, and PEM
 * with 64-character lines (LF or CRLF, with or without a final line break).
 */
function pemRenderings(der: Uint8Array): string[] {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  const pem = (eol: string) => `-----BEGIN CERTIFICATE-----${eol}${lines.join(eol)}${eol}-----END CERTIFICATE-----`;
  return [b64, pem("\n"), `${pem("\n")}\n`, pem("\r\n"), `${pem("\r\n")}\r\n`];
}

/** The certificate in an identity value: Keycloak's single-line base64 of the DER (or PEM). Undefined: none. */
function identityCertificate(value: string): Certificate | undefined {
  try {
    const [cert] = parseCertificates(value.trim(), { ...DEFAULT_LIMITS, maxCertificates: 1, maxCertificateBytes: 64 * 1024, maxInputBytes: 256 * 1024 });
    return cert;
  } catch (e) {
    if (e instanceof CertificateParseError) return undefined;
    throw e;
  }
}

// Attribute names directory servers know, for the issuer in a certificate assertion.
const NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET",
  "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.42": "givenName", "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC", "1.2.840.113549.1.9.1": "emailAddress",
};

/** A Name as an RFC 4514 string with names and text values (what servers parse back most reliably); #hex otherwise. */
function ldapDnString(name: Name): string {
  const text = (tag: number, content: Uint8Array): string | undefined =>
    tag === 12 || tag === 19 || tag === 22 ? Buffer.from(content).toString("utf8") : tag === 30 && content.length % 2 === 0 ? Buffer.from(content).swap16().toString("utf16le") : undefined;
  const escape = (v: string) => v
    .replace(/[\\"+,;<>]/g, (c) => `\\${c}`)
    .replace(/\0/g, "\\00")
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, "\\ ");
  return [...name.rdns].reverse().map((rdn) => rdn.map((ava) => {
    const value = text(ava.tag, ava.content);
    return `${NAMES[ava.oid] ?? ava.oid}=${value === undefined ? `#${Buffer.from(ava.valueDer).toString("hex")}` : escape(value)}`;
  }).join("+")).join(",");
}

/**
 * RFC 4523's CertificateExactAssertion in its GSER form, the value certificateExactMatch takes (OpenLDAP): serial
 * and issuer. Servers whose certificate attribute compares octets (Active Directory) match the DER instead.
 */
function certificateAssertion(cert: Certificate): string {
  return `{ serialNumber ${cert.serialDecimal}, issuer rdnSequence:"${ldapDnString(cert.issuer).replaceAll('"', '""')}" }`;
}

export class LdapDirectory {
  readonly settings: LdapSettings;
  readonly connection: LdapConnection;

  constructor(settings: LdapSettings, connection: LdapConnection) {
    this.settings = settings;
    this.connection = connection;
  }

  #mapper(name: string) {
    return this.settings.attributeMappers.find((m) => m.name === name);
  }

  /** Whether every name of `pairs` can be searched in LDAP (a mapper's name, or username / email). */
  canSearch(names: readonly string[]): boolean {
    return names.every((n) => n === "username" || n === "email" || this.#mapper(n) !== undefined);
  }

  /** Whether `name` is mapped to certificates in LDAP (never searched in, nor stored to, the local store). */
  isCertificateAttribute(name: string): boolean {
    return this.#mapper(name)?.certificate !== undefined;
  }

  #scoped(condition: Filter): Filter {
    return new AndFilter({
      filters: [...this.settings.userObjectClasses.map((oc) => new EqualityFilter({ attribute: "objectClass", value: oc })), condition],
    });
  }

  #readAttributes(): { attributes: string[]; binary: string[] } {
    const s = this.settings;
    const attributes = [s.uuidAttribute, s.usernameAttribute, s.emailAttribute, s.firstNameAttribute, s.lastNameAttribute];
    if (s.disabledAttribute) attributes.push(s.disabledAttribute);
    const binary: string[] = [];
    for (const m of s.attributeMappers) {
      attributes.push(m.ldapAttribute);
      if (m.certificate) binary.push(m.ldapAttribute);
    }
    return { attributes: [...new Set(attributes)], binary };
  }

  #toUser(entry: RawEntry): LdapUser | undefined {
    const s = this.settings;
    const id = strings(attribute(entry, s.uuidAttribute))[0];
    const username = strings(attribute(entry, s.usernameAttribute))[0]?.toLowerCase();
    // An entry without a usable id or username cannot be linked: it is skipped, as if it did not match.
    if (!id || !username || !USERNAME.test(username)) return undefined;
    const email = strings(attribute(entry, s.emailAttribute))[0]?.toLowerCase();
    const disabledValues = s.disabledValues.map((v) => v.toLowerCase());
    const disabled = s.disabledAttribute !== undefined && strings(attribute(entry, s.disabledAttribute)).some((v) => disabledValues.includes(v.toLowerCase()));
    // The names are the realm's mapper names: data, so the map has no prototype (users/attributes.ts).
    const attributes = Object.create(null) as Record<string, string[]>;
    for (const m of s.attributeMappers) {
      if (m.certificate) continue;
      const values = strings(attribute(entry, m.ldapAttribute)).filter((v) => v.length <= 4096).slice(0, 100);
      if (values.length) attributes[m.name] = values;
    }
    return {
      dn: entry.dn,
      id,
      username,
      email: email && EMAIL.test(email) && email.length <= 254 ? email : undefined,
      firstName: strings(attribute(entry, s.firstNameAttribute))[0]?.slice(0, 255),
      lastName: strings(attribute(entry, s.lastNameAttribute))[0]?.slice(0, 255),
      enabled: !disabled,
      attributes,
    };
  }

  async #search(condition: Filter, limit: number, keep: (e: RawEntry) => boolean = () => true): Promise<LdapMatch> {
    const { attributes, binary } = this.#readAttributes();
    const answer = await this.connection.search({
      base: this.settings.usersDn,
      scope: this.settings.searchScope,
      filter: this.#scoped(condition),
      attributes,
      binaryAttributes: binary,
      sizeLimit: limit,
    });
    const users = answer.entries.filter(keep).map((e) => this.#toUser(e)).filter((u): u is LdapUser => u !== undefined);
    return { users, truncated: answer.truncated };
  }

  byUsername(username: string, limit = 2): Promise<LdapMatch> {
    return this.#search(new EqualityFilter({ attribute: this.settings.usernameAttribute, value: username }), limit);
  }

  byEmail(email: string, limit = 2): Promise<LdapMatch> {
    return this.#search(new EqualityFilter({ attribute: this.settings.emailAttribute, value: email }), limit);
  }

  /** Up to `n` users (any): the sample search of `ldap test`. */
  sample(n: number): Promise<LdapMatch> {
    return this.#search(new PresenceFilter({ attribute: this.settings.usernameAttribute }), n);
  }

  byId(id: string): Promise<LdapMatch> {
    return this.#search(new EqualityFilter({ attribute: this.settings.uuidAttribute, value: id }), 2);
  }

  /**
   * Users having every pair (exact values). A certificate attribute's value is the identity of the "Full Certificate"
   * source: the server is asked with the DER (binary) or the PEM renderings (text), and each candidate is kept only
   * when one of its certificates is byte-for-byte the identity's.
   */
  async byAttributes(pairs: readonly AttributePair[], limit: number): Promise<LdapMatch> {
    const conditions: Filter[] = [];
    const certificateChecks: { attribute: string; form: "der" | "pem"; der: Uint8Array }[] = [];
    for (const { name, value } of pairs) {
      const s = this.settings;
      if (name === "username") conditions.push(new EqualityFilter({ attribute: s.usernameAttribute, value }));
      else if (name === "email") conditions.push(new EqualityFilter({ attribute: s.emailAttribute, value }));
      else {
        const m = this.#mapper(name);
        if (!m) return { users: [], truncated: false };
        if (!m.certificate) {
          conditions.push(new EqualityFilter({ attribute: m.ldapAttribute, value }));
          continue;
        }
        const cert = identityCertificate(value);
        if (!cert) return { users: [], truncated: false };
        const der = cert.der;
        certificateChecks.push({ attribute: m.ldapAttribute, form: m.certificate, der });
        // Binary: the DER (octet-comparing servers) or the serial + issuer assertion (certificateExactMatch), the
        // assertion on the attribute without its ";binary" transfer option.
        conditions.push(m.certificate === "der"
          ? new OrFilter({ filters: [
            new EqualityFilter({ attribute: m.ldapAttribute, value: Buffer.from(der) }),
            new EqualityFilter({ attribute: m.ldapAttribute.replace(/;binary$/i, ""), value: certificateAssertion(cert) }),
          ] })
          : new OrFilter({ filters: pemRenderings(der).map((text) => new EqualityFilter({ attribute: m.ldapAttribute, value: text })) }));
      }
    }
    if (conditions.length === 0) return { users: [], truncated: false };
    const condition = conditions.length === 1 ? (conditions[0] as Filter) : new AndFilter({ filters: conditions });
    // Candidates by serial and issuer may be more than the matches: ask for a few more when certificates decide.
    const ask = certificateChecks.length ? Math.max(limit, 10) : limit;
    const keep = (entry: RawEntry) => certificateChecks.every((c) =>
      buffers(attribute(entry, c.attribute)).some((v) => certificatesOf(v, c.form).some((d) => Buffer.compare(d, c.der) === 0)));
    const found = await this.#search(condition, ask, keep);
    return { users: found.users.slice(0, limit), truncated: found.truncated || found.users.length > limit };
  }
}
