// `x509-idp realm import <file.json>` and `x509-idp realm export <realm> [--output file]`.
import fs from "node:fs";
import { exportRealm } from "../admin/export.ts";
import { importRealm } from "../admin/import.ts";
import { NotFoundError, ValidationError } from "../admin/errors.ts";
import type { Prisma } from "../db/database.ts";

export async function realmImport(db: Prisma, file: string): Promise<string> {
  let input: unknown;
  try {
    input = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ValidationError([`${file}: ${(e as Error).message}`]);
  }
  return JSON.stringify(await importRealm(db, input), null, 2);
}

export async function realmExport(db: Prisma, realm: string, output?: string): Promise<string | undefined> {
  const rep = await exportRealm(db, realm);
  if (!rep) throw new NotFoundError(`realm "${realm}" not found`);
  const json = `${JSON.stringify(rep, null, 2)}\n`;
  if (!output) return json;
  fs.writeFileSync(output, json, { mode: 0o600 });
  return undefined;
}
