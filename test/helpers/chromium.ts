// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) presenting a client certificate from its
// own TLS stack: the certificate is imported into an NSS database in a temporary HOME (pk12util), and Chromium is
// told to select it without asking by the AutoSelectCertificateForUrls policy (../shared/reference/
// chromium-client-cert.md). As root the policy goes to /etc/chromium/policies/managed (removed afterwards);
// otherwise the same setting goes into the profile's preferences. Without a match Chromium would wait on an
// invisible dialog, so the pattern and the issuer filter are exact.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { tempDir } from "./db.ts";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];
const POLICY_DIR = "/etc/chromium/policies/managed";

export interface CertificateBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

function canWritePolicy(): boolean {
  try {
    fs.mkdirSync(POLICY_DIR, { recursive: true });
    fs.accessSync(POLICY_DIR, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A browser with no client certificate at all (its HOME has no NSS database). */
export async function plainBrowser(): Promise<CertificateBrowser> {
  const home = tempDir("x509idp-chromium-plain-");
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, env: { ...process.env, HOME: home } });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  return {
    context,
    async close() {
      await browser.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * A browser holding the certificate in `p12` (with `password`), selected automatically for `origin` when the server
 * asks and the certificate was issued by `issuerCn`.
 */
export async function certificateBrowser(o: { p12: Buffer; password: string; origin: string; issuerCn: string }): Promise<CertificateBrowser> {
  const home = tempDir("x509idp-chromium-");
  const nss = path.join(home, ".pki", "nssdb");
  fs.mkdirSync(nss, { recursive: true });
  execFileSync("certutil", ["-N", "--empty-password", "-d", `sql:${nss}`]);
  fs.writeFileSync(path.join(home, "client.p12"), o.p12);
  execFileSync("pk12util", ["-i", path.join(home, "client.p12"), "-d", `sql:${nss}`, "-W", o.password], { stdio: ["ignore", "ignore", "pipe"] });
  const rule = JSON.stringify({ pattern: o.origin, filter: { ISSUER: { CN: o.issuerCn } } });
  const env = { ...process.env, HOME: home };
  if (canWritePolicy()) {
    const policy = path.join(POLICY_DIR, `x509-idp-test-${process.pid}.json`);
    fs.writeFileSync(policy, JSON.stringify({ AutoSelectCertificateForUrls: [rule] }));
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, env });
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    return {
      context,
      async close() {
        await browser.close();
        fs.rmSync(policy, { force: true });
        fs.rmSync(home, { recursive: true, force: true });
      },
    };
  }
  // Not root: the profile's own content setting does what the policy does.
  const profile = path.join(home, "profile");
  fs.mkdirSync(path.join(profile, "Default"), { recursive: true });
  const originKey = `${o.origin},*`;
  fs.writeFileSync(path.join(profile, "Default", "Preferences"), JSON.stringify({
    profile: { content_settings: { exceptions: { auto_select_certificate: { [originKey]: { setting: { filters: [{ ISSUER: { CN: o.issuerCn } }] } } } } } },
  }));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, env, ignoreHTTPSErrors: true });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
