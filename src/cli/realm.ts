// `x509-idp realm import <file.json>` and `x509-idp realm export <realm> [--output file]`.
import fs from "node:fs";
import { exportRealm } from "../admin/export.ts";
import { importRealm } from "../admin/import.ts";
import { convertKeycloakRealm } from "../admin/keycloak-import.ts";
import { NotFoundError, ValidationError } from "../admin/errors.ts";
import type { SecretBox } from "../config/secret-box.ts";
import type { Prisma } from "../db/database.ts";

export interface RealmImportOptions {
  /** The file is a Keycloak realm export. */
  keycloak?: boolean;
  /** PEM files with the realm's X.509 trust anchors (with --keycloak). */
  trust?: string[];
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ValidationError([`${file}: ${(e as Error).message}`]);
  }
}

/** `changed`: tells the servers on this database (db/change-feed.ts) that the realm changed. */
export async function realmImport(db: Prisma, file: string, o: RealmImportOptions = {}, secrets?: SecretBox, changed?: (realm: string) => Promise<void>): Promise<string> {
  const input = readJsonFile(file);
  if (!o.keycloak) {
    if (o.trust?.length) throw new ValidationError(["--trust: only with --keycloak (x509-idp realm files carry x509.trustAnchors)"]);
    const summary = await importRealm(db, input, { ...(secrets && { secrets }) });
    await changed?.(summary.realm);
    return JSON.stringify(summary, null, 2);
  }
  const anchors = (o.trust ?? []).map((f) => {
    try {
      return fs.readFileSync(f, "utf8");
    } catch (e) {
      throw new ValidationError([`--trust: cannot read ${f}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`]);
    }
  });
  const { realm, notes } = convertKeycloakRealm(input, anchors);
  const summary = await importRealm(db, realm, { ...(secrets && { secrets }) });
  await changed?.(summary.realm);
  return JSON.stringify({ ...summary, notes }, null, 2);
}

export async function realmExport(db: Prisma, realm: string, output?: string): Promise<string | undefined> {
  const rep = await exportRealm(db, realm);
  if (!rep) throw new NotFoundError(`realm "${realm}" not found`);
  const json = `${JSON.stringify(rep, null, 2)}\n`;
  if (!output) return json;
  fs.writeFileSync(output, json, { mode: 0o600 });
  return undefined;
}
