// Real reverse proxies for the proxy tests: Debian's nginx and HAProxy, each terminating mutual TLS on a loopback high
// port in a temporary folder and forwarding to x509-idp over plain HTTP from 127.0.0.2 (the address x509-idp trusts,
// so that a test talking to x509-idp directly from 127.0.0.1 is an untrusted peer). The configurations are the
// README's snippets with test paths and ports.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { tempDir } from "./db.ts";
import { freePort } from "./ports.ts";

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

async function waitForPort(port: number, child: ChildProcess, output: () => string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the proxy exited (${child.exitCode}): ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`the proxy does not listen on 127.0.0.1:${port}: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function launch(command: string, args: string[], dir: string, port: number, logFile?: string): Promise<Proxy> {
  const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const log = () => output + (logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  await waitForPort(port, child, log);
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

/**
 * nginx: optional client certificate (any issuer: x509-idp validates it against the realm), the escaped certificate
 * and nginx's verdict forwarded; `proxy_set_header` replaces whatever the client sent under those names.
 */
export async function startNginx(o: ProxyOptions): Promise<Proxy> {
  const dir = tempDir("x509idp-nginx-");
  const port = o.port ?? (await freePort());
  fs.writeFileSync(path.join(dir, "tls.crt"), o.certPem);
  fs.writeFileSync(path.join(dir, "tls.key"), o.keyPem, { mode: 0o600 });
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
  upstream x509_idp {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/tls.crt;
    ssl_certificate_key ${dir}/tls.key;
    ssl_verify_client optional_no_ca;
    location / {
      proxy_pass http://x509_idp;
      proxy_bind ${PROXY_ADDRESS};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header ssl-client-cert $ssl_client_escaped_cert;
      proxy_set_header ssl-client-verify $ssl_client_verify;
    }
  }
}
`;
  fs.writeFileSync(path.join(dir, "nginx.conf"), conf);
  return launch("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")], dir, port, path.join(dir, "error.log"));
}

/**
 * HAProxy: optional client certificate, errors ignored (x509-idp validates), the leaf and the intermediates as RFC
 * 8941 byte sequences; incoming copies are deleted first.
 */
export async function startHaproxy(o: ProxyOptions): Promise<Proxy> {
  const dir = tempDir("x509idp-haproxy-");
  const port = o.port ?? (await freePort());
  fs.writeFileSync(path.join(dir, "tls.pem"), `${o.certPem.trim()}\n${o.keyPem.trim()}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "client-ca.pem"), o.clientCaPem ?? o.certPem);
  const conf = `global
  log stderr format raw local0 warning
defaults
  mode http
  log global
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend https_in
  bind 127.0.0.1:${port} ssl crt ${dir}/tls.pem verify optional ca-file ${dir}/client-ca.pem ca-ignore-err all crt-ignore-err all
  http-request del-header Client-Cert
  http-request del-header Client-Cert-Chain
  http-request set-header Client-Cert :%[ssl_c_der,base64]: if { ssl_c_used }
  http-request set-header Client-Cert-Chain :%[ssl_c_chain_der,base64]: if { ssl_c_used }
  http-request set-header X-Forwarded-Proto https
  option forwardfor
  default_backend x509_idp
backend x509_idp
  source ${PROXY_ADDRESS}
  server idp 127.0.0.1:${o.upstreamPort}
`;
  fs.writeFileSync(path.join(dir, "haproxy.cfg"), conf);
  return launch("haproxy", ["-f", path.join(dir, "haproxy.cfg"), "-db"], dir, port);
}
