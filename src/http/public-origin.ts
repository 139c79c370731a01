// Every absolute URL x509-idp builds (discovery, redirects, form actions, logout pages, cookies' Secure flag) comes
// from IDP_PUBLIC_URL, as Keycloak's `hostname` option fixes them: never from the request's Host header, nor from a
// proxy's X-Forwarded-Host / -Proto, so no request can make a page or a cacheable document name another host.
// Koa builds every URL of a request (ctx.href, ctx.origin, ctx.secure) from its request's `protocol` and `host`; both
// Koa applications that serve requests (x509-idp's own and each realm's oidc-provider) get them fixed here.
import type Koa from "koa";

export function pinOrigin(app: Koa, publicUrl: string): void {
  const u = new URL(publicUrl);
  const fixed = (value: string) => ({ get: () => value, configurable: true, enumerable: true });
  Object.defineProperties(app.request, {
    protocol: fixed(u.protocol.slice(0, -1)),
    host: fixed(u.host),
    hostname: fixed(u.hostname),
  });
}
