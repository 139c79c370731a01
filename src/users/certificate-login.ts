// Certificate login against this realm's users: the X.509 core's authenticator wired to the realm's users and
// just-in-time provisioning. Password brute-force lockouts do not apply: the certificate proves possession and is not
// what is being guessed (an account disabled by a permanent lockout is disabled, and refused as such).
import type { Realm } from "../realms/realm-store.ts";
import type { X509Flow, X509Settings } from "../realms/x509-settings.ts";
import { authenticateCertificate, type Certificate, type CertificateLoginOutcome, type DirectoryUser, type RevocationChecker, type ValidationOutcome } from "../x509/index.ts";
import type { FoundUser, RealmUsers } from "./federation.ts";
import type { UserRecord } from "./user-store.ts";
import { usernameProblem } from "./username.ts";
import { realmUserDirectory } from "./x509-directory.ts";

export interface CertificateLoginContext {
  realm: Realm;
  x509: X509Settings;
  /** The realm's users: local, and LDAP when federated. */
  directory: RealmUsers;
  revocation: RevocationChecker;
  /** Told when just-in-time provisioning created a user (the flows record a REGISTER event). */
  onUserCreated?(user: DirectoryUser): void;
}

const isUniqueViolation = (e: unknown) => typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";

export type LocalCertificateLogin = CertificateLoginOutcome & {
  /** The logged-in user's full record (on success), as read during the login. */
  record?: UserRecord;
};

/** Runs the flow's certificate login for `chain`; the flow must be enabled and configured. */
export async function loginWithCertificate(c: CertificateLoginContext, flow: X509Flow, chain: Certificate[], hint?: string, validated?: ValidationOutcome): Promise<LocalCertificateLogin> {
  if (!flow.config) throw new Error("the X.509 flow has no configuration");
  const seen = new Map<string, FoundUser>();
  const directory = realmUserDirectory(c.directory, seen);
  const outcome = await authenticateCertificate(chain, flow.config, c.x509.trust, {
    directory,
    now: Date.now(),
    revocation: c.revocation,
    validated,
    createUser: async (spec) => {
      // A name the certificate suggests must be a name people can tell apart, as any other (username.ts).
      if (usernameProblem(spec.username) !== undefined) return undefined;
      try {
        const u = await c.directory.store.create(c.realm.id, {
          username: spec.username,
          ...(spec.email && { email: spec.email }),
          emailVerified: false,
          enabled: true,
          ...(spec.firstName && { firstName: spec.firstName }),
          attributes: spec.attributes,
          realmRoles: [],
        }, null);
        seen.set(u.id, u);
        const created = { id: u.id, username: u.username, email: u.email, enabled: u.enabled };
        c.onUserCreated?.(created);
        return created;
      } catch (e) {
        if (isUniqueViolation(e)) return undefined; // the username or e-mail belongs to someone the identity did not match
        throw e;
      }
    },
  }, hint);
  return outcome.ok ? { ...outcome, record: seen.get(outcome.user.id) } : outcome;
}
