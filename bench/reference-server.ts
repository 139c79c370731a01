// The benchmark's bare reference: a plain Node HTTPS server with x509-idp's TLS settings (the same certificate and
// key, client certificates requested but not required, TLS 1.2+), answering every POST with one ES256-signed JWT
// about the presented client certificate. It is the ceiling of "TLS + HTTP + one signature" on this machine;
// x509-idp's direct grant is reported as a fraction of it. With [processes] > 1, that many processes share the port
// (node:cluster, as x509-idp's IDP_WORKERS): the ceiling with every core.
//   node bench/reference-server.ts <port> <cert.pem> <key.pem> [processes]
import cluster from "node:cluster";
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import type { TLSSocket } from "node:tls";

const [port, certFile, keyFile, processes = "1"] = process.argv.slice(2);
if (Number(processes) > 1 && cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < Number(processes); i++) cluster.fork().once("listening", () => ++listening === Number(processes) && process.stderr.write("ready\n"));
  process.on("SIGTERM", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGTERM");
    cluster.on("exit", () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0));
  });
} else {
  serve();
}

function serve() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const header = Buffer.from(JSON.stringify({ alg: "ES256", typ: "JWT", kid: "reference" })).toString("base64url");

  const server = https.createServer(
    { cert: fs.readFileSync(certFile as string), key: fs.readFileSync(keyFile as string), requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2" },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const peer = (req.socket as TLSSocket).getPeerX509Certificate();
        const now = Math.floor(Date.now() / 1000);
        const payload = Buffer.from(JSON.stringify({ sub: peer?.subject ?? "anonymous", iat: now, exp: now + 300, jti: randomUUID() })).toString("base64url");
        const signature = sign("sha256", Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
        const body = JSON.stringify({ access_token: `${header}.${payload}.${signature}`, token_type: "Bearer", expires_in: 300 });
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(body);
      });
    },
  );
  server.keepAliveTimeout = 65_000;
  server.listen(Number(port), "127.0.0.1", () => cluster.isPrimary && process.stderr.write("ready\n"));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
