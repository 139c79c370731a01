// A minimal browser for driving the login pages without JavaScript: a cookie jar (path-scoped), manual redirects,
// and form extraction from the rendered HTML.
import type { Agent, Headers } from "undici";
import { fetch } from "undici";

export interface Page {
  status: number;
  url: string;
  location?: string;
  body: string;
  headers: Headers;
}

export interface Form {
  action: string;
  fields: Record<string, string>;
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

export class Browser {
  readonly #dispatcher: Agent;
  readonly cookies = new Map<string, { value: string; path: string }>();
  acceptLanguage = "en";

  constructor(dispatcher: Agent) {
    this.#dispatcher = dispatcher;
  }

  #cookieHeader(url: URL): string {
    return [...this.cookies].filter(([, c]) => url.pathname.startsWith(c.path)).map(([name, c]) => `${name}=${c.value}`).join("; ");
  }

  #store(res: { headers: Headers }, url: URL): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";").map((s) => s.trim());
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? url.pathname;
      const expired = attrs.some((a) => /^expires=/i.test(a) && new Date(a.slice(8)).getTime() < Date.now()) || attrs.some((a) => /^max-age=0$/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<Page> {
    const u = new URL(url);
    const headers: Record<string, string> = { accept: "text/html", "accept-language": this.acceptLanguage, ...init.headers };
    const cookie = this.#cookieHeader(u);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(u, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      headers,
      redirect: "manual",
      dispatcher: this.#dispatcher,
      ...(init.form && { body: new URLSearchParams(init.form) }),
      ...(init.body !== undefined && { body: init.body }),
    });
    this.#store(res, u);
    const location = res.headers.get("location");
    return { status: res.status, url, ...(location && { location: new URL(location, u).toString() }), body: await res.text(), headers: res.headers };
  }

  /** Follows redirects until a page renders or the location starts with `stopAt` (e.g. the client's redirect URI). */
  async navigate(url: string, stopAt?: string, init?: { form?: Record<string, string> }): Promise<Page> {
    let page = await this.request(url, init);
    for (let hops = 0; page.location && hops < 20; hops++) {
      if (stopAt && page.location.startsWith(stopAt)) return page;
      page = await this.request(page.location);
    }
    return page;
  }
}

/** The form with the given id (or the first form) of a page, with its hidden and pre-filled fields. */
export function formOf(page: Page, id?: string): Form {
  const forms = [...page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const match = id ? forms.find((f) => new RegExp(`id="${id}"`).test(f[1] ?? "")) : forms[0];
  if (!match) throw new Error(`no form${id ? ` #${id}` : ""} on ${page.url} (status ${page.status}):\n${page.body.slice(0, 2000)}`);
  const action = decode(/action="([^"]*)"/.exec(match[1] ?? "")?.[1] ?? page.url);
  const fields: Record<string, string> = {};
  for (const input of (match[2] ?? "").matchAll(/<input\b([^>]*)>/g)) {
    const name = /name="([^"]*)"/.exec(input[1] ?? "")?.[1];
    const value = /value="([^"]*)"/.exec(input[1] ?? "")?.[1] ?? "";
    if (name) fields[name] = decode(value);
  }
  return { action: new URL(action, page.url).toString(), fields };
}

/** The text of the page's error banner, if any. */
export function errorBanner(page: Page): string | undefined {
  const m = /<div class="error" role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(page.body) ?? /<p class="error" role="alert">([\s\S]*?)<\/p>/.exec(page.body);
  return m?.[1] ? decode(m[1].replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim()) : undefined;
}
