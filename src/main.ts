// x509-idp command line. `serve` is the default command.
import { Command, Option } from "commander";
import { ConflictError, NotFoundError, ValidationError } from "./admin/errors.ts";
import { loadSettings, SettingsError, type Settings } from "./config/env.ts";
import { applyMigrations, DatabaseError } from "./db/database.ts";
import { MigrationError } from "./db/migrate.ts";
import { createLogger } from "./log.ts";
import { realmExport, realmImport } from "./cli/realm.ts";
import { serve } from "./cli/serve.ts";
import { userAdd, userPasswd, type UserAddOptions, type PasswordOptions } from "./cli/user.ts";
import { certIdentity, certInspect, type IdentityCliOptions } from "./cli/cert.ts";
import { IDENTITY_SOURCES, X509ConfigError } from "./x509/index.ts";
import { createServices } from "./services.ts";
import { ListenError } from "./http/server.ts";
import { RealmStore } from "./realms/realm-store.ts";

const out = (s: string | undefined): void => {
  if (s !== undefined) process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
};

/** Runs a command that needs the database, with migrations applied and resources closed afterwards. */
async function withServices<T>(settings: Settings, fn: (s: Awaited<ReturnType<typeof createServices>>) => Promise<T>): Promise<T> {
  const services = await createServices(settings, createLogger(settings.logLevel === "info" ? "warn" : settings.logLevel, process.stderr));
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

const adminDeps = (s: Awaited<ReturnType<typeof createServices>>) => ({ db: s.db.prisma, changed: () => {} });

function program(settings: () => Settings): Command {
  const cli = new Command("x509-idp").description("OpenID Connect identity provider with X.509 client-certificate login").showHelpAfterError();

  cli.command("serve", { isDefault: true }).description("run the server (migrates the database and bootstraps on first start)")
    .action(async () => {
      const s = settings();
      await serve(s, createLogger(s.logLevel));
    });

  cli.command("migrate").description("apply pending database migrations and exit")
    .action(async () => {
      const applied = await applyMigrations(settings().databaseUrl);
      out(JSON.stringify({ applied }));
    });

  const realm = cli.command("realm").description("import or export realms (realm JSON)");
  realm.command("import").argument("<file>", "realm JSON file").description("create or update a realm with its clients and users (atomic, idempotent)")
    .action(async (file: string) => out(await withServices(settings(), (s) => realmImport(s.db.prisma, file))));
  realm.command("export").argument("<realm>", "realm name").option("-o, --output <file>", "write to a file (mode 600) instead of stdout")
    .description("print the realm JSON, with secrets and passwords as argon2id hashes")
    .action(async (name: string, o: { output?: string }) => out(await withServices(settings(), (s) => realmExport(s.db.prisma, name, o.output))));
  realm.command("list").description("list realm names")
    .action(async () => out(await withServices(settings(), async (s) => (await new RealmStore(s.db.prisma).list()).map((r) => r.name).join("\n"))));

  const passwordOptions = (c: Command) => c
    .addOption(new Option("--password-stdin", "read the password from standard input"))
    .addOption(new Option("--password <password>", "the password (visible to other users of this machine; prefer --password-stdin)").conflicts("passwordStdin"));
  const user = cli.command("user").description("manage users of a realm");
  passwordOptions(user.command("add").argument("<realm>").argument("<username>")
    .option("--email <email>").option("--first-name <name>").option("--last-name <name>")
    .option("--role <role...>", "realm roles (admin in the master realm may use the admin API)")
    .option("--attribute <name=value...>", "user attributes (repeatable)")
    .option("--disabled", "create the user disabled")
    .description("create a user; without a password option a random password is generated and printed"))
    .action(async (r: string, u: string, o: UserAddOptions) => out(await withServices(settings(), (s) => userAdd(adminDeps(s), r, u, o))));
  passwordOptions(user.command("passwd").argument("<realm>").argument("<username>")
    .description("set a user's password; without a password option a random one is generated and printed"))
    .action(async (r: string, u: string, o: PasswordOptions) => out(await withServices(settings(), (s) => userPasswd(adminDeps(s), r, u, o))));
  const cert = cli.command("cert").description("inspect client certificates the way x509-idp (and Keycloak) read them");
  cert.command("inspect").argument("<file...>", "PEM or DER files (a chain's first certificate is the leaf)")
    .option("--json", "one JSON object per line")
    .description("print DN renderings, serial, thumbprint, SANs, key usages, policies, CRL and OCSP locations")
    .action((files: string[], o: { json?: boolean }) => {
      const { output, failed } = certInspect(files, o);
      out(output);
      if (failed) process.exitCode = 1;
    });
  cert.command("identity").argument("<file>", "PEM or DER file")
    .requiredOption("--source <source>", `identity source: an id or Keycloak's label (${IDENTITY_SOURCES.map((s) => s.id).join(", ")})`)
    .option("--regex <expression>", "for the DN sources: one capturing group (default (.*?)(?:$))")
    .option("--canonical-dn", "use the canonical DN form")
    .option("--serial-hex", "serial numbers in Keycloak's hex form")
    .description('print {"identity": …} (exit 0) or {"identity": null, "reason": …} (exit 1)')
    .action((file: string, o: IdentityCliOptions) => {
      const { output, ok } = certIdentity(file, o);
      out(output);
      if (!ok) process.exitCode = 1;
    });
  return cli;
}

try {
  await program(() => loadSettings()).parseAsync(process.argv);
} catch (e) {
  const known = [SettingsError, ValidationError, NotFoundError, ConflictError, ListenError, DatabaseError, MigrationError, X509ConfigError].some((k) => e instanceof k);
  process.stderr.write(`x509-idp: ${known ? (e as Error).message : (e as Error)?.stack ?? String(e)}\n`);
  process.exit(known ? 2 : 1);
}
