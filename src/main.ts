// x509-idp command line. `serve` is the default command. Each command loads what it needs when it runs, so the
// certificate commands start without the server, the database clients or oidc-provider.
import { Command, Option } from "commander";
import type { UserAddOptions, PasswordOptions } from "./cli/user.ts";
import type { IdentityCliOptions, VerifyCliOptions } from "./cli/cert.ts";
import type { EventsCliOptions } from "./cli/events.ts";
import type { RealmImportOptions } from "./cli/realm.ts";
import { loadSettings, SettingsError, type Settings } from "./config/env.ts";
import type { Services } from "./services.ts";
import { IDENTITY_SOURCES, X509ConfigError } from "./x509/index.ts";

const out = (s: string | undefined): void => {
  if (s !== undefined) process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
};

/** Runs a command that needs the database, with migrations applied and resources closed afterwards. */
async function withServices<T>(settings: Settings, fn: (s: Services) => Promise<T>): Promise<T> {
  const [{ createServices }, { createLogger }] = await Promise.all([import("./services.ts"), import("./log.ts")]);
  const services = await createServices(settings, createLogger(settings.logLevel === "info" ? "warn" : settings.logLevel, process.stderr));
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

/** The CLI changes the database directly; the servers on it (PostgreSQL) hear of it at once. */
const adminDeps = (s: Services) => ({ db: s.db.prisma, changed: (realm: string) => void s.db.changes.publish(realm) });

/** Errors whose message explains a mistake (exit 2, no stack trace). */
async function isExplained(e: unknown): Promise<boolean> {
  if (e instanceof SettingsError || e instanceof X509ConfigError) return true;
  const [admin, server, database, migrate, box, lock] = await Promise.all([import("./admin/errors.ts"), import("./http/server.ts"), import("./db/database.ts"), import("./db/migrate.ts"), import("./config/secret-box.ts"), import("./db/sqlite-lock.ts")]);
  return [admin.ValidationError, admin.NotFoundError, admin.ConflictError, server.ListenError, database.DatabaseError, migrate.MigrationError, box.SecretBoxError, lock.DatabaseLockedError].some((k) => e instanceof k);
}

function program(settings: () => Settings): Command {
  const cli = new Command("x509-idp").description("OpenID Connect identity provider with X.509 client-certificate login").showHelpAfterError();

  cli.command("serve", { isDefault: true }).description("run the server (migrates the database and bootstraps on first start)")
    .action(async () => {
      const s = settings();
      const { createLogger } = await import("./log.ts");
      const { isPrimary, runPrimary } = await import("./cli/workers.ts");
      // A pool's primary loads none of the server: it starts the workers, which run this command again.
      if (isPrimary(s)) return runPrimary(s, createLogger(s.logLevel), s.workers);
      const { serve } = await import("./cli/serve.ts");
      await serve(s, createLogger(s.logLevel));
    });

  cli.command("migrate").description("apply pending database migrations and exit")
    .action(async () => {
      const { applyMigrations } = await import("./db/database.ts");
      const applied = await applyMigrations(settings().databaseUrl);
      // Opening the services runs the start-up pass too: what an older release stored in clear is sealed.
      await withServices(settings(), async () => undefined);
      out(JSON.stringify({ applied }));
    });

  const realm = cli.command("realm").description("import or export realms (realm JSON)");
  realm.command("import").argument("<file>", "realm JSON file (or, with --keycloak, a Keycloak realm export)")
    .option("--keycloak", "the file is a Keycloak realm export: realm, clients, users (password hashes), X.509 authenticators")
    .option("--trust <file...>", "with --keycloak: PEM files with the realm's X.509 trust anchors")
    .description("create or update a realm with its clients and users (atomic, idempotent)")
    .action(async (file: string, o: RealmImportOptions) => {
      const { realmImport } = await import("./cli/realm.ts");
      out(await withServices(settings(), (s) => realmImport(s.db.prisma, file, o, s.ldap.secrets, (realm) => s.db.changes.publish(realm))));
    });
  realm.command("export").argument("<realm>", "realm name").option("-o, --output <file>", "write to a file (mode 600) instead of stdout")
    .description("print the realm JSON, with secrets and passwords as argon2id hashes")
    .action(async (name: string, o: { output?: string }) => {
      const { realmExport } = await import("./cli/realm.ts");
      out(await withServices(settings(), (s) => realmExport(s.db.prisma, name, o.output)));
    });
  realm.command("list").description("list realm names")
    .action(async () => {
      const { RealmStore } = await import("./realms/realm-store.ts");
      out(await withServices(settings(), async (s) => (await new RealmStore(s.db.prisma).list()).map((r) => r.name).join("\n")));
    });

  const ldap = cli.command("ldap").description("the realms' LDAP user federation");
  ldap.command("test").argument("<realm>", "realm name")
    .option("--json", "the report as JSON")
    .description("connect with the realm's LDAP settings, bind, search a few users and print what was found (exit 1 on failure)")
    .action(async (name: string, o: { json?: boolean }) => {
      const { ldapTest } = await import("./cli/ldap.ts");
      out(await withServices(settings(), (s) => ldapTest(s, name, o)));
    });

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
    .action(async (r: string, u: string, o: UserAddOptions) => {
      const { userAdd } = await import("./cli/user.ts");
      out(await withServices(settings(), (s) => userAdd(adminDeps(s), r, u, o)));
    });
  passwordOptions(user.command("passwd").argument("<realm>").argument("<username>")
    .description("set a user's password; without a password option a random one is generated and printed"))
    .action(async (r: string, u: string, o: PasswordOptions) => {
      const { userPasswd } = await import("./cli/user.ts");
      out(await withServices(settings(), (s) => userPasswd(adminDeps(s), r, u, o)));
    });
  user.command("unlock").argument("<realm>").argument("<username>")
    .description("clear the account's brute-force lockout (temporary, or permanent: the account is enabled again) and its failure count")
    .action(async (r: string, u: string) => {
      const { userUnlock } = await import("./cli/user.ts");
      out(await withServices(settings(), (s) => userUnlock(adminDeps(s), r, u)));
    });
  cli.command("demo")
    .description("set up the demo realm with certificate login: a demo CA (trusted by the realm), a client certificate for the demo user (PEM, key, .p12), and print how to use them")
    .action(async () => {
      const s = settings();
      const [{ ensureDemo }, { demoInstructions }, { loadTls }] = await Promise.all([import("./bootstrap.ts"), import("./cli/serve.ts"), import("./http/tls.ts")]);
      const { demo, pki } = await withServices(s, (svc) => ensureDemo(svc.db.prisma, s));
      const tls = await loadTls({ dataDir: s.dataDir, certFile: s.tlsCertFile, keyFile: s.tlsKeyFile, publicHost: new URL(s.publicUrl).hostname });
      out(demoInstructions(s.publicUrl, tls.trustFile, demo, pki, { service: true, mtlsUrl: s.mtlsPublicUrl }).join("\n"));
    });
  cli.command("events").argument("<realm>", "realm name")
    .option("--type <type...>", "event types (LOGIN, LOGIN_ERROR, REGISTER, …; repeatable or comma-separated)")
    .option("--client <clientId>").option("--user <userId>")
    .option("--from <date>", "yyyy-MM-dd or ISO timestamp").option("--to <date>", "yyyy-MM-dd (whole day) or ISO timestamp")
    .option("--max <n>", "at most n events (1–1000, default 100)")
    .option("--json", "one JSON object per line")
    .description("the realm's audit log, newest first")
    .action(async (realm: string, o: EventsCliOptions) => {
      const { listEvents } = await import("./cli/events.ts");
      out(await withServices(settings(), (s) => listEvents(s.db.prisma, s.events, realm, o)));
    });
  const cert = cli.command("cert").description("inspect client certificates the way x509-idp (and Keycloak) read them");
  cert.command("inspect").argument("<file...>", "PEM or DER files (a chain's first certificate is the leaf)")
    .option("--json", "one JSON object per line")
    .description("print DN renderings, serial, thumbprint, SANs, key usages, policies, CRL and OCSP locations")
    .action(async (files: string[], o: { json?: boolean }) => {
      const { certInspect } = await import("./cli/cert.ts");
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
    .action(async (file: string, o: IdentityCliOptions) => {
      const { certIdentity } = await import("./cli/cert.ts");
      const { output, ok } = certIdentity(file, o);
      out(output);
      if (!ok) process.exitCode = 1;
    });
  cert.command("verify").argument("<file>", "the client's certificate, or its chain (PEM or DER)")
    .requiredOption("--trust <file...>", "PEM file(s) with the realm's trust anchors and intermediates")
    .option("--options <file>", "authenticator configuration (JSON: Keycloak's keys, or its {\"alias\", \"config\"} entry)")
    .option("--at <time>", "validate as at this time (ISO 8601) instead of now")
    .option("--crl-dir <folder>", "folder for CRL file names (default IDP_CRL_DIR)")
    .description("run the whole validation (trust, pins, validity, usages, policies, CRL, OCSP): prints the outcome, exit 0 valid, 1 not")
    .action(async (file: string, o: VerifyCliOptions) => {
      const { certVerify } = await import("./cli/cert.ts");
      const { output, ok } = await certVerify(file, o, settings().revocation);
      out(output);
      if (!ok) process.exitCode = 1;
    });
  return cli;
}

try {
  await program(() => loadSettings()).parseAsync(process.argv);
} catch (e) {
  const known = await isExplained(e);
  process.stderr.write(`x509-idp: ${known ? (e as Error).message : (e as Error)?.stack ?? String(e)}\n`);
  process.exit(known ? 2 : 1);
}
