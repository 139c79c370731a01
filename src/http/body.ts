// Bounded request bodies for x509-idp's own routes (oidc-provider parses its own, capped at 56 KiB):
// a body over the limit is refused with 413 before it is buffered, a wrong content type with 415, bad syntax or
// invalid UTF-8 with 400.
import type { Context } from "koa";
import { HttpError, badRequest } from "./errors.ts";

export const FORM_LIMIT = 64 * 1024;
/** oidc-provider's own cap on a request body (56 KiB). */
export const PROVIDER_BODY_LIMIT = 56 * 1024;
export const JSON_LIMIT = 16 * 1024 * 1024;

const tooLarge = (limit: number) => new HttpError(413, "request_too_large", `request body exceeds ${limit} bytes`, "requestTooLarge");

/** The raw body, at most `limit` bytes (413 past it, the connection closed after the answer). */
export async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get("content-length") || NaN);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      // Stop reading; the client gets its answer and the connection is closed afterwards.
      ctx.set("Connection", "close");
      throw tooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

export async function readForm(ctx: Context, limit = FORM_LIMIT): Promise<Record<string, string>> {
  if (!ctx.is("application/x-www-form-urlencoded")) {
    throw new HttpError(415, "invalid_request", "expected application/x-www-form-urlencoded");
  }
  const raw = utf8(await readRaw(ctx, limit));
  // Parameter names are data: the map has no prototype, so `constructor` or `__proto__` is a parameter like any other.
  const out = Object.create(null) as Record<string, string>;
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const k = formDecode(eq === -1 ? pair : pair.slice(0, eq));
    const v = formDecode(eq === -1 ? "" : pair.slice(eq + 1));
    if (Object.hasOwn(out, k)) throw badRequest(`parameter ${k} given more than once`);
    out[k] = v;
  }
  return out;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as UTF-8 text; invalid UTF-8 is a client's mistake, not text to be repaired with U+FFFD. */
function utf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw badRequest("the request body is not valid UTF-8");
  }
}

/** application/x-www-form-urlencoded decoding (WHATWG URL §5.1), where the percent-escaped bytes must be UTF-8 too. */
function formDecode(s: string): string {
  const text = s.replaceAll("+", " ");
  if (!text.includes("%")) return text;
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    parts.push(Buffer.from(text.slice(last, m.index), "utf8"), Buffer.of(parseInt(m[1] as string, 16)));
    last = m.index + 3;
  }
  parts.push(Buffer.from(text.slice(last), "utf8"));
  return utf8(Buffer.concat(parts));
}

export async function readJson(ctx: Context, limit = JSON_LIMIT): Promise<unknown> {
  if (!ctx.is("application/json")) throw new HttpError(415, "invalid_request", "expected Content-Type: application/json");
  const raw = utf8(await readRaw(ctx, limit));
  try {
    return JSON.parse(raw) as unknown;
  } catch (e) {
    throw badRequest(`malformed JSON: ${(e as Error).message}`);
  }
}
