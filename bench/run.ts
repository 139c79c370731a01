// `npm run bench`: measures the scenarios below against the real server (a separate process, fresh database) and
// rewrites bench/RESULTS.md. BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 16) tune the runs.
import fs from "node:fs";
import path from "node:path";
import { load, machine, postgresAvailable, startServer, type LoadResult, type Server } from "./lib.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

interface Row {
  scenario: string;
  database: string;
  connections: number;
  result: LoadResult;
  rssMiB: number;
}

interface Demo {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

const demoOf = (s: Server) => JSON.parse(fs.readFileSync(path.join(s.dataDir, "demo-credentials.json"), "utf8")) as Demo;
const tokenPath = "/realms/demo/protocol/openid-connect/token";
const hasToken = (status: number, body: string) => status === 200 && body.includes('"access_token"');

const scenarios: { name: string; run: (s: Server, connections: number) => Promise<LoadResult> }[] = [
  {
    name: "reference: discovery document (TLS + HTTP stack, no database)",
    run: (s, connections) => load({
      base: s.base, ca: s.ca, connections, seconds: SECONDS, warmupSeconds: 2, ok: (status) => status === 200,
      request: () => ({ method: "GET", path: "/realms/demo/.well-known/openid-configuration", headers: {} }),
    }),
  },
  {
    name: "token endpoint, client credentials (client_secret_basic)",
    run: (s, connections) => {
      const d = demoOf(s);
      const auth = `Basic ${Buffer.from(`${d.clientId}:${d.clientSecret}`).toString("base64")}`;
      return load({
        base: s.base, ca: s.ca, connections, seconds: SECONDS, warmupSeconds: 2, ok: hasToken,
        request: () => ({ method: "POST", path: tokenPath, headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials" }),
      });
    },
  },
  {
    name: "token endpoint, password grant (argon2id verification per request)",
    run: (s, connections) => {
      const d = demoOf(s);
      const body = new URLSearchParams({ grant_type: "password", client_id: d.clientId, client_secret: d.clientSecret, username: d.username, password: d.password, scope: "openid" }).toString();
      return load({
        base: s.base, ca: s.ca, connections, seconds: SECONDS, warmupSeconds: 2, ok: hasToken,
        request: () => ({ method: "POST", path: tokenPath, headers: { "content-type": "application/x-www-form-urlencoded" }, body }),
      });
    },
  },
];

const rows: Row[] = [];
const databases: ("sqlite" | "postgres")[] = (await postgresAvailable()) ? ["sqlite", "postgres"] : ["sqlite"];
for (const database of databases) {
  for (const sc of scenarios) {
    // A fresh server per scenario, so one run's data and caches do not help or hurt the next.
    const server = await startServer(database);
    try {
      const result = await sc.run(server, CONNECTIONS);
      rows.push({ scenario: sc.name, database, connections: CONNECTIONS, result, rssMiB: server.rssMiB() });
      process.stderr.write(`${database} · ${sc.name}: ${result.rps} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.errors} errors\n`);
    } finally {
      await server.stop();
    }
  }
}

const table = [
  "| scenario | database | connections | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | server RSS MiB |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.scenario} | ${r.database} | ${r.connections} | ${r.result.rps} | ${r.result.p50} | ${r.result.p90} | ${r.result.p99} | ${r.result.max} | ${r.result.errors} | ${r.rssMiB} |`),
].join("\n");

const doc = `# Benchmark results

Written by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString()}.

- Machine: ${machine()}.
- Method: the server runs as its own process (\`x509-idp serve\`, fresh database, log level warn); the load generator
  (undici, ${CONNECTIONS} keep-alive HTTPS connections, closed loop: each connection sends its next request when the
  previous answer arrived) runs in a second process on the same machine, so both share its cores. ${SECONDS} s measured
  after 2 s of warm-up. Latency is measured by the client, from sending the request to the last byte of the answer.
  Only correct answers (200 with an access token) count; anything else is an error.

${table}
`;
fs.writeFileSync(path.join(import.meta.dirname, "RESULTS.md"), doc);
process.stderr.write(`wrote bench/RESULTS.md\n`);
