// Real servers for revocation tests, started on loopback high ports in temporary folders and stopped afterwards:
// an HTTP server for CRLs (node:http, counting requests), slapd with CRLs in certificateRevocationList;binary, and
// OpenSSL's OCSP responder (`openssl ocsp -index … -port …`).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import type { BuiltCert } from "./certs.ts";
import { tempDir } from "./db.ts";
import { freePort, sbin, waitForPort } from "./ports.ts";

/** Processes started here, stopped when this process exits even if a test did not get to stop them. */
const leftovers = new Set<() => void>();
process.once("exit", () => {
  for (const stop of leftovers) stop();
});

// ---- HTTP ------------------------------------------------------------------------------------------------------

export interface CrlServer {
  base: string;
  /** What each path answers: bytes (200), a status code, or "hang" (never answers). */
  routes: Map<string, Uint8Array | number | "hang">;
  /** Every request, in order: method and path. */
  requests: { method: string; path: string; body: Buffer }[];
  count(path: string): number;
  close(): Promise<void>;
}

export async function startHttpServer(): Promise<CrlServer> {
  const routes = new Map<string, Uint8Array | number | "hang">();
  const requests: CrlServer["requests"] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const p = new URL(req.url ?? "/", "http://x").pathname;
      requests.push({ method: req.method ?? "GET", path: p, body: Buffer.concat(chunks) });
      const r = routes.get(p);
      if (r === "hang") return;
      if (r === undefined || typeof r === "number") {
        res.writeHead(r ?? 404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/pkix-crl", "content-length": r.length }).end(Buffer.from(r));
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    routes,
    requests,
    count: (p) => requests.filter((r) => r.path === p).length,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- slapd -----------------------------------------------------------------------------------------------------

export interface Slapd {
  url: string;
  /** With `tls`: the same server over LDAPS (StartTLS works on `url`). */
  ldapsUrl: string | undefined;
  port: number;
  suffix: string;
  admin: { dn: string; password: string };
  /** Adds an entry holding `crl` in certificateRevocationList;binary, returns its DN. */
  addCrl(cn: string, crl: Uint8Array): string;
  /** Adds entries (LDIF) as the administrator. */
  add(ldif: string): void;
  /** Changes entries (LDIF with changetype) as the administrator. */
  modify(ldif: string): void;
  /** Freezes the process (SIGSTOP: connections hang, nothing answers) and thaws it. */
  pause(): void;
  resume(): void;
  /** Stops the server, keeping its data; start() runs it again on the same port(s). */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  stop(): Promise<void>;
}

export interface SlapdOptions {
  /** Serve LDAPS on a second port and StartTLS, with this server certificate and key (PEM). */
  tls?: { cert: string; key: string };
}

const LDAP_ADMIN = "cn=admin,dc=example,dc=org";
const LDAP_PASSWORD = "secret";

export async function startSlapd(o: SlapdOptions = {}): Promise<Slapd> {
  const dir = tempDir("x509idp-slapd-");
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : undefined;
  if (o.tls) {
    fs.writeFileSync(path.join(dir, "server.crt"), o.tls.cert);
    fs.writeFileSync(path.join(dir, "server.key"), o.tls.key, { mode: 0o600 });
  }
  const hash = execFileSync(sbin("slappasswd"), ["-s", LDAP_PASSWORD], { encoding: "utf8" }).trim();
  fs.mkdirSync(path.join(dir, "config"));
  fs.mkdirSync(path.join(dir, "db"));
  fs.writeFileSync(path.join(dir, "config.ldif"), `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
${o.tls ? `olcTLSCertificateFile: ${dir}/server.crt\nolcTLSCertificateKeyFile: ${dir}/server.key\n` : ""}
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: ${dir}/db
olcDbMaxSize: 67108864
olcSuffix: dc=example,dc=org
olcRootDN: ${LDAP_ADMIN}
olcRootPW: ${hash}
olcDbIndex: objectClass,uid,mail eq
olcAccess: {0}to attrs=userPassword by anonymous auth by self read by * none
olcAccess: {1}to * by * read
`);
  execFileSync(sbin("slapadd"), ["-q", "-n0", "-F", path.join(dir, "config"), "-l", path.join(dir, "config.ldif")]);
  fs.writeFileSync(path.join(dir, "base.ldif"), "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Org\n");
  execFileSync(sbin("slapadd"), ["-q", "-n1", "-F", path.join(dir, "config"), "-l", path.join(dir, "base.ldif")]);
  const listen = [`ldap://127.0.0.1:${port}/`, ...(tlsPort ? [`ldaps://127.0.0.1:${tlsPort}/`] : [])].join(" ");
  const run = async () => {
    execFileSync(sbin("slapd"), ["-F", path.join(dir, "config"), "-h", listen]);
    await waitForPort(port);
  };
  await run();
  const pidFile = path.join(dir, "slapd.pid");
  const pid = () => Number(fs.readFileSync(pidFile, "utf8").trim());
  const kill = () => {
    try {
      process.kill(pid(), "SIGCONT");
      process.kill(pid(), "SIGTERM");
    } catch {
      // already gone
    }
  };
  leftovers.add(kill);
  const url = `ldap://127.0.0.1:${port}`;
  const ldapAdd = (ldif: string, modify = false) =>
    execFileSync(modify ? "ldapmodify" : "ldapadd", ["-x", "-H", url, "-D", LDAP_ADMIN, "-w", LDAP_PASSWORD], { input: ldif, stdio: ["pipe", "ignore", "pipe"] });
  const stopProcess = async () => {
    if (!fs.existsSync(pidFile)) return;
    try {
      process.kill(pid(), "SIGCONT");
      process.kill(pid(), "SIGTERM");
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
  };
  return {
    url,
    ldapsUrl: tlsPort ? `ldaps://127.0.0.1:${tlsPort}` : undefined,
    port,
    suffix: "dc=example,dc=org",
    admin: { dn: LDAP_ADMIN, password: LDAP_PASSWORD },
    add: (ldif) => void ldapAdd(ldif),
    modify: (ldif) => void ldapAdd(ldif, true),
    pause: () => process.kill(pid(), "SIGSTOP"),
    resume: () => process.kill(pid(), "SIGCONT"),
    kill: stopProcess,
    start: run,
    addCrl(cn, crl) {
      const dn = `cn=${cn},dc=example,dc=org`;
      const ldif = `dn: ${dn}\nobjectClass: cRLDistributionPoint\ncn: ${cn}\ncertificateRevocationList;binary:: ${Buffer.from(crl).toString("base64")}\n`;
      execFileSync("ldapadd", ["-x", "-H", url, "-D", LDAP_ADMIN, "-w", LDAP_PASSWORD], { input: ldif, stdio: ["pipe", "ignore", "pipe"] });
      return dn;
    },
    async stop() {
      leftovers.delete(kill);
      await stopProcess();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- openssl ocsp ----------------------------------------------------------------------------------------------

export interface OcspEntry {
  serial: bigint | number;
  status: "V" | "R";
  revokedAt?: Date;
  reason?: string;
}

export interface OcspResponder {
  url: string;
  /** Requests the responder has received so far (from its log, once its output has settled). */
  requests(): Promise<number>;
  stop(): Promise<void>;
}

const opensslTime = (d: Date) => d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";

/**
 * `openssl ocsp` answering for the certificates `ca` issued, signed by `signer` (the CA itself or a delegate). Its
 * -port takes a number only, so it listens on every interface of this machine, on a free high port.
 */
export async function startOcspResponder(o: { ca: BuiltCert; signer: BuiltCert; entries: OcspEntry[]; nextUpdateMinutes?: number }): Promise<OcspResponder> {
  const dir = tempDir("x509idp-ocsp-");
  const port = await freePort();
  const future = opensslTime(new Date(Date.now() + 365 * 86400_000));
  const index = o.entries.map((e) => {
    let hex = BigInt(e.serial).toString(16).toUpperCase();
    if (hex.length % 2) hex = `0${hex}`;
    const revoked = e.status === "R" ? `${opensslTime(e.revokedAt ?? new Date(Date.now() - 86400_000))}${e.reason ? `,${e.reason}` : ""}` : "";
    return `${e.status}\t${future}\t${revoked}\t${hex}\tunknown\t/CN=x\n`;
  }).join("");
  fs.writeFileSync(path.join(dir, "index.txt"), index);
  fs.writeFileSync(path.join(dir, "index.txt.attr"), "unique_subject = no\n");
  fs.writeFileSync(path.join(dir, "ca.pem"), o.ca.pem);
  fs.writeFileSync(path.join(dir, "signer.pem"), o.signer.pem);
  fs.writeFileSync(path.join(dir, "signer.key"), o.signer.key.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  const args = ["ocsp", "-index", "index.txt", "-port", String(port), "-CA", "ca.pem", "-rsigner", "signer.pem", "-rkey", "signer.key", "-ignore_err"];
  if (o.nextUpdateMinutes !== undefined) args.push("-nmin", String(o.nextUpdateMinutes));
  const log: string[] = [];
  const child: ChildProcess = spawn("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const kill = () => child.kill("SIGKILL");
  leftovers.add(kill);
  child.stdout?.on("data", (c: Buffer) => log.push(c.toString()));
  child.stderr?.on("data", (c: Buffer) => log.push(c.toString()));
  // Not a TCP probe: the responder serves one connection at a time and a probe that sends nothing wedges it.
  const end = Date.now() + 10_000;
  while (!log.join("").includes("waiting for OCSP client connections")) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`openssl ocsp did not start: ${log.join("")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: async () => {
      await new Promise((r) => setTimeout(r, 200));
      return (log.join("").match(/Received request/g) ?? []).length;
    },
    async stop() {
      leftovers.delete(kill);
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
