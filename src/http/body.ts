// Bounded request bodies for x509-idp's own routes (oidc-provider parses its own, capped at 56 KiB):
// a body over the limit is refused with 413 before it is buffered, a wrong content type with 415, bad syntax with 400.
import type { Context } from "koa";
import { HttpError, badRequest } from "./errors.ts";

export const FORM_LIMIT = 64 * 1024;
export const JSON_LIMIT = 16 * 1024 * 1024;

const tooLarge = (limit: number) => new HttpError(413, "request_too_large", `request body exceeds ${limit} bytes`, "requestTooLarge");

async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
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
  const params = new URLSearchParams((await readRaw(ctx, limit)).toString("utf8"));
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in out) throw badRequest(`parameter ${k} given more than once`);
    out[k] = v;
  }
  return out;
}

export async function readJson(ctx: Context, limit = JSON_LIMIT): Promise<unknown> {
  if (!ctx.is("application/json")) throw new HttpError(415, "invalid_request", "expected Content-Type: application/json");
  const raw = (await readRaw(ctx, limit)).toString("utf8");
  try {
    return JSON.parse(raw) as unknown;
  } catch (e) {
    throw badRequest(`malformed JSON: ${(e as Error).message}`);
  }
}
