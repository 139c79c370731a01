// Server-rendered pages: Eta templates in views/ with auto-escaping, and a message catalogue per language
// (views/messages/<lang>.json) so every user-facing sentence can be translated. English is the fallback.
import fs from "node:fs";
import path from "node:path";
import { Eta } from "eta";

export const VIEWS_DIR = path.resolve(import.meta.dirname, "../views");

/** Headers for every page x509-idp renders: no caching, no framing, no scripts, styles from our origin only. */
export const PAGE_HEADERS = {
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
} as const;

export type Messages = Record<string, string>;

export interface PageData {
  title: string;
  realm?: { name: string; displayName: string | null } | undefined;
  [key: string]: unknown;
}

export interface Views {
  render(template: string, data: PageData, acceptLanguage?: string): string;
  /** The message for `key`, with {0}, {1}… replaced by `args`. */
  message(key: string, acceptLanguage?: string, ...args: string[]): string;
}

function loadCatalogues(dir: string): Map<string, Messages> {
  const out = new Map<string, Messages>();
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith(".json")) out.set(f.slice(0, -5), JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Messages);
  }
  return out;
}

/** The first language of an Accept-Language header that has a catalogue. */
export function pickLanguage(header: string | undefined, available: ReadonlySet<string>): string {
  const wanted = (header ?? "")
    .split(",")
    .map((part) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = Number(params.find((p) => p.trim().startsWith("q="))?.split("=")[1] ?? 1);
      return { lang: tag.toLowerCase().split("-")[0] ?? "", q: Number.isFinite(q) ? q : 0 };
    })
    .filter((w) => w.lang && w.q > 0)
    .sort((a, b) => b.q - a.q);
  return wanted.find((w) => available.has(w.lang))?.lang ?? "en";
}

export function createViews(dir = VIEWS_DIR): Views {
  const eta = new Eta({ views: dir, autoEscape: true, cache: true, autoTrim: false });
  const catalogues = loadCatalogues(path.join(dir, "messages"));
  const languages = new Set(catalogues.keys());
  const english = catalogues.get("en") ?? {};
  const message = (key: string, acceptLanguage?: string, ...args: string[]) => {
    const lang = pickLanguage(acceptLanguage, languages);
    const text = catalogues.get(lang)?.[key] ?? english[key] ?? key;
    return text.replace(/\{(\d+)\}/g, (m, i: string) => args[Number(i)] ?? m);
  };
  return {
    message,
    render(template, data, acceptLanguage) {
      const lang = pickLanguage(acceptLanguage, languages);
      const t = (key: string, ...args: string[]) => message(key, lang, ...args);
      return eta.render(template, { ...data, lang, t });
    },
  };
}
