// The HTTP side of revocation checking (CRL downloads, OCSP requests) on node:http: one timeout for the whole
// exchange, a size cap enforced while reading (and on Content-Length), at most three redirects, each checked by the
// same rule as the first URL. No cookies, no proxy variables, no caching.
import http from "node:http";
import https from "node:https";
import { FetchError, type FetchLimits, type HttpClient } from "../x509/revocation/fetch.ts";

const MAX_REDIRECTS = 3;

function exchange(url: URL, method: "GET" | "POST", headers: Record<string, string>, body: Uint8Array | undefined, limits: FetchLimits, deadline: number): Promise<{ status: number; location?: string; data: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === "https:" ? https : http;
    const remaining = Math.max(1, deadline - Date.now());
    const req = lib.request(url, { method, headers: { "user-agent": "x509-idp", ...headers, ...(body && { "content-length": String(body.length) }) }, timeout: remaining }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        resolve({ status, location: res.headers.location, data: new Uint8Array(0) });
        return;
      }
      const declared = Number(res.headers["content-length"] ?? -1);
      if (declared > limits.maxBytes) {
        res.destroy();
        reject(new FetchError("TOO_LARGE", `${url.href} sends ${declared} bytes, more than the ${limits.maxBytes} allowed`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > limits.maxBytes) {
          res.destroy();
          reject(new FetchError("TOO_LARGE", `${url.href} sends more than the ${limits.maxBytes} bytes allowed`));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => {
        const all = Buffer.concat(chunks, size);
        resolve({ status, data: new Uint8Array(all.buffer, all.byteOffset, all.length) });
      });
      res.on("error", (e) => reject(new FetchError("NETWORK", `${url.href}: ${e.message}`, { cause: e })));
    });
    const timer = setTimeout(() => req.destroy(new FetchError("TIMEOUT", `${url.href} did not answer within ${limits.timeoutMs} ms`)), remaining);
    req.on("timeout", () => req.destroy(new FetchError("TIMEOUT", `${url.href} did not answer within ${limits.timeoutMs} ms`)));
    req.on("error", (e) => reject(e instanceof FetchError ? e : new FetchError("NETWORK", `${url.href}: ${e.message}`, { cause: e })));
    req.on("close", () => clearTimeout(timer));
    req.end(body);
  });
}

async function send(url: URL, method: "GET" | "POST", headers: Record<string, string>, body: Uint8Array | undefined, limits: FetchLimits): Promise<Uint8Array> {
  const deadline = Date.now() + limits.timeoutMs;
  let current = url;
  for (let hop = 0; ; hop++) {
    const refused = limits.refuse(current);
    if (refused) throw new FetchError("NOT_ALLOWED", refused);
    const r = await exchange(current, method, headers, body, limits, deadline);
    if (r.location !== undefined) {
      if (hop === MAX_REDIRECTS) throw new FetchError("HTTP_STATUS", `${url.href}: more than ${MAX_REDIRECTS} redirects`);
      current = new URL(r.location, current);
      continue;
    }
    if (r.status !== 200) throw new FetchError("HTTP_STATUS", `${current.href} answered HTTP ${r.status}`);
    return r.data;
  }
}

export function nodeHttpClient(): HttpClient {
  return {
    get: (url, headers, limits) => send(url, "GET", headers, undefined, limits),
    post: (url, body, headers, limits) => send(url, "POST", headers, body, limits),
  };
}
