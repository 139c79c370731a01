// Real reverse proxies for the proxy tests: Debian's nginx, HAProxy and Apache httpd, each terminating mutual TLS on a
// loopback high port in a temporary folder and forwarding to x509-idp over plain HTTP from 127.0.0.2 (the address
// x509-idp trusts, so that a test talking to x509-idp directly from 127.0.0.1 is an untrusted peer). nginx runs the
// docker compose deployment's configuration, HAProxy and Apache the README's (deploy/), each with test paths and ports.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./db.ts";
import { freePort, sbin, waitForPort } from "./ports.ts";

export const PROXY_ADDRESS = "127.0.0.2";

export interface Proxy {
  port: number;
  /** Everything the proxy wrote to its log so far. */
  log(): string;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** The port to listen on (x509-idp's IDP_PUBLIC_URL must name it before either starts). */
  port?: number;
  /** x509-idp's plain HTTP port. */
  upstreamPort: number;
  /** The proxy's own TLS certificate chain and key (PEM). */
  certPem: string;
  keyPem: string;
  /** HAProxy needs a CA file for `verify optional` (x509-idp does the real verification). */
  clientCaPem?: string;
}


const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

async function launch(command: string, args: string[], dir: string, port: number, logFile?: string): Promise<Proxy> {
  const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const log = () => output + (logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  await waitForPort(port, { name: "the proxy", exitCode: () => child.exitCode, output: log });
  return {
    port,
    log,
    async stop() {
      running.delete(child);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The docker compose deployment's nginx configuration, which the nginx tests run (with their paths and ports). */
export const NGINX_DEPLOY_CONF = path.resolve(import.meta.dirname, "../../deploy/nginx/x509-idp.conf");

/** The README's HAProxy and Apache configurations, which their tests run (with their paths and ports). */
export const HAPROXY_DEPLOY_CONF = path.resolve(import.meta.dirname, "../../deploy/haproxy/x509-idp.cfg");
export const APACHE_DEPLOY_CONF = path.resolve(import.meta.dirname, "../../deploy/apache/x509-idp.conf");

function replaceOnce(text: string, from: string, to: string, file = NGINX_DEPLOY_CONF): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`${file}: expected "${from}" exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/**
 * nginx with deploy/nginx/x509-idp.conf: optional client certificate (any issuer: x509-idp validates it against the
 * realm), the escaped certificate and nginx's verdict forwarded; `proxy_set_header` replaces whatever the client sent
 * under those names. Only the addresses, ports and file paths differ from the deployment.
 */
export async function startNginx(o: ProxyOptions): Promise<Proxy> {
  const dir = tempDir("x509idp-nginx-");
  const port = o.port ?? (await freePort());
  fs.writeFileSync(path.join(dir, "tls.crt"), o.certPem);
  fs.writeFileSync(path.join(dir, "tls.key"), o.keyPem, { mode: 0o600 });
  let site = fs.readFileSync(NGINX_DEPLOY_CONF, "utf8");
  site = replaceOnce(site, "server idp:8080;", `server 127.0.0.1:${o.upstreamPort};`);
  site = replaceOnce(site, "listen 443 ssl;", `listen 127.0.0.1:${port} ssl;`);
  site = replaceOnce(site, "/etc/nginx/idp-data/tls/server.crt", path.join(dir, "tls.crt"));
  site = replaceOnce(site, "/etc/nginx/idp-data/tls/server.key", path.join(dir, "tls.key"));
  site = replaceOnce(site, "proxy_pass http://x509_idp;", `proxy_pass http://x509_idp;\n    proxy_bind ${PROXY_ADDRESS};`);
  fs.writeFileSync(path.join(dir, "site.conf"), site);
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`;
  fs.writeFileSync(path.join(dir, "nginx.conf"), conf);
  return launch(sbin("nginx"), ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")], dir, port, path.join(dir, "error.log"));
}

/**
 * HAProxy with deploy/haproxy/x509-idp.cfg (the README's): optional client certificate, errors ignored (x509-idp
 * validates), the leaf and the intermediates as RFC 8941 byte sequences; incoming copies are deleted first. Only the
 * addresses, ports and file paths differ.
 */
export async function startHaproxy(o: ProxyOptions): Promise<Proxy> {
  const dir = tempDir("x509idp-haproxy-");
  const port = o.port ?? (await freePort());
  fs.writeFileSync(path.join(dir, "tls.pem"), `${o.certPem.trim()}\n${o.keyPem.trim()}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "client-ca.pem"), o.clientCaPem ?? o.certPem);
  let conf = fs.readFileSync(HAPROXY_DEPLOY_CONF, "utf8");
  conf = replaceOnce(conf, "bind :443 ssl crt /etc/haproxy/idp.pem", `bind 127.0.0.1:${port} ssl crt ${dir}/tls.pem`, HAPROXY_DEPLOY_CONF);
  conf = replaceOnce(conf, "ca-file /etc/haproxy/any-ca.pem", `ca-file ${dir}/client-ca.pem`, HAPROXY_DEPLOY_CONF);
  conf = replaceOnce(conf, "  server idp idp:8080", `  source ${PROXY_ADDRESS}\n  server idp 127.0.0.1:${o.upstreamPort}`, HAPROXY_DEPLOY_CONF);
  fs.writeFileSync(path.join(dir, "haproxy.cfg"), conf);
  return launch(sbin("haproxy"), ["-f", path.join(dir, "haproxy.cfg"), "-db"], dir, port);
}

/**
 * Apache httpd with deploy/apache/x509-idp.conf (the README's; mod_ssl, mod_headers, mod_proxy_http): an optional
 * client certificate of any issuer, exported with its first chain certificate; `RequestHeader set` replaces any copy
 * the client sent.
 */
export async function startApache(o: ProxyOptions): Promise<Proxy> {
  const dir = tempDir("x509idp-apache-");
  const port = o.port ?? (await freePort());
  fs.writeFileSync(path.join(dir, "tls.crt"), o.certPem);
  fs.writeFileSync(path.join(dir, "tls.key"), o.keyPem, { mode: 0o600 });
  const modules = "/usr/lib/apache2/modules";
  const load = ["mpm_event", "authz_core", "headers", "proxy", "proxy_http", "ssl"].map((m) => `LoadModule ${m}_module ${modules}/mod_${m}.so`).join("\n");
  let site = fs.readFileSync(APACHE_DEPLOY_CONF, "utf8");
  site = replaceOnce(site, "<VirtualHost *:443>", `<VirtualHost 127.0.0.1:${port}>`, APACHE_DEPLOY_CONF);
  site = replaceOnce(site, "/etc/apache2/idp/server.crt", `${dir}/tls.crt`, APACHE_DEPLOY_CONF);
  site = replaceOnce(site, "/etc/apache2/idp/server.key", `${dir}/tls.key`, APACHE_DEPLOY_CONF);
  site = replaceOnce(site, "  ProxyPass / http://idp:8080/", `  ProxySourceAddress ${PROXY_ADDRESS}\n  ProxyPass / http://127.0.0.1:${o.upstreamPort}/`, APACHE_DEPLOY_CONF);
  const conf = `ServerRoot "${dir}"
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
ServerName localhost
Listen 127.0.0.1:${port}
${load}
${process.getuid?.() === 0 ? "User nobody\nGroup nogroup" : ""}
SSLSessionCache none
${site}
`;
  fs.writeFileSync(path.join(dir, "httpd.conf"), conf);
  return launch(sbin("apache2"), ["-X", "-f", path.join(dir, "httpd.conf")], dir, port, path.join(dir, "error.log"));
}
