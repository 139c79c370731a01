// Runs scripts/jdk-oracle/JdkOracle.java (compiled once into node_modules/.cache) and returns its answers.
// Needs a JDK (javac + java); Keycloak runs on the JDK, so it is the reference for DN and serial renderings.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const source = path.join(root, "scripts/jdk-oracle/JdkOracle.java");
const out = path.join(root, "node_modules/.cache/x509-idp-jdk-oracle");
const EXPORTS = ["--add-exports", "java.base/sun.security.x509=ALL-UNNAMED"];

export function jdkAvailable(): boolean {
  return spawnSync("javac", ["-version"]).status === 0 && spawnSync("java", ["-version"]).status === 0;
}

export function jdkVersion(): string {
  return spawnSync("java", ["-version"], { encoding: "utf8" }).stderr.split("\n")[0] ?? "";
}

function compile(): void {
  const cls = path.join(out, "JdkOracle.class");
  if (fs.existsSync(cls) && fs.statSync(cls).mtimeMs >= fs.statSync(source).mtimeMs) return;
  fs.mkdirSync(out, { recursive: true });
  execFileSync("javac", [...EXPORTS, "-nowarn", "-d", out, source], { stdio: ["ignore", "ignore", "pipe"] });
}

/** Sends `commands` ("name <hex>", "serial <hex>", "cert <hex>", "regex <b64> <b64>") and returns one parsed answer per command. */
export function askJdk(commands: string[]): Record<string, string>[] {
  compile();
  const res = spawnSync("java", [...EXPORTS, "-cp", out, "JdkOracle"], { input: `${commands.join("\n")}\n`, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`JdkOracle failed: ${res.stderr}`);
  return res.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
}
