// `x509-idp user add <realm> <username>` and `x509-idp user passwd <realm> <username>`.
// Passwords come from --password-stdin (recommended), --password, or are generated and printed once.
import { randomBytes } from "node:crypto";
import { ValidationError } from "../admin/errors.ts";
import { createUser, listUsers, setPassword } from "../admin/users.ts";
import type { AdminDeps } from "../admin/realms.ts";
import { bruteForceStatus, clearBruteForceForUser } from "../admin/attack-detection.ts";
import { addAttributeValue, emptyAttributes, type Attributes } from "../users/attributes.ts";

export interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

async function choosePassword(o: PasswordOptions): Promise<{ value: string; generated: boolean }> {
  if (o.passwordStdin) return { value: await readStdin(), generated: false };
  if (o.password !== undefined) return { value: o.password, generated: false };
  return { value: randomBytes(12).toString("base64url"), generated: true };
}

export interface UserAddOptions extends PasswordOptions {
  email?: string;
  firstName?: string;
  lastName?: string;
  role?: string[];
  attribute?: string[];
  disabled?: boolean;
}

function attributes(pairs: string[] = []): Attributes {
  const out = emptyAttributes();
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i < 1) throw new ValidationError([`--attribute ${p}: expected name=value`]);
    addAttributeValue(out, p.slice(0, i), p.slice(i + 1));
  }
  return out;
}

export async function userAdd(deps: AdminDeps, realm: string, username: string, o: UserAddOptions): Promise<string> {
  const pw = await choosePassword(o);
  const user = await createUser(deps, realm, {
    username,
    ...(o.email && { email: o.email }),
    ...(o.firstName && { firstName: o.firstName }),
    ...(o.lastName && { lastName: o.lastName }),
    enabled: !o.disabled,
    realmRoles: o.role ?? [],
    attributes: attributes(o.attribute),
    credentials: [{ type: "password", value: pw.value }],
  });
  return JSON.stringify({ id: user.id, username: user.username, ...(pw.generated && { password: pw.value }) });
}

export async function userPasswd(deps: AdminDeps, realm: string, username: string, o: PasswordOptions): Promise<string> {
  const [user] = await listUsers(deps, realm, { username, exact: true });
  if (!user) throw new ValidationError([`username: no user "${username}" in realm "${realm}"`]);
  const pw = await choosePassword(o);
  await setPassword(deps, realm, user.id, { type: "password", value: pw.value });
  return JSON.stringify({ id: user.id, username: user.username, ...(pw.generated && { password: pw.value }) });
}

/** `x509-idp user unlock <realm> <username>`: clears the account's brute-force lock (temporary or permanent). */
export async function userUnlock(deps: AdminDeps, realm: string, username: string): Promise<string> {
  const [user] = await listUsers(deps, realm, { username, exact: true });
  if (!user) throw new ValidationError([`username: no user "${username}" in realm "${realm}"`]);
  const before = await bruteForceStatus(deps, realm, user.id);
  await clearBruteForceForUser(deps, realm, user.id);
  return JSON.stringify({ id: user.id, username: user.username, wasLocked: before.disabled, numFailures: before.numFailures });
}
