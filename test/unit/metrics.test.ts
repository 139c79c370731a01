// The label rules of GET /metrics (src/metrics.ts): route templates, Keycloak's event names, login flows and methods,
// and values a client chose never becoming series.
import { describe, expect, it } from "vitest";
import { Metrics, routeOf } from "../../src/metrics.ts";

const metrics = () => new Metrics({ events: () => ({ pending: 0, storedCount: 0, droppedCount: 0, retryCount: 0 }), database: () => ({ open: 1, idle: 1, waiting: 0, max: 1 }), ldap: () => [] });

describe("route templates", () => {
  it.each([
    ["/realms/acme/protocol/openid-connect/token", "/realms/{realm}/protocol/openid-connect/token"],
    ["/realms/acme/protocol/openid-connect/token/introspect", "/realms/{realm}/protocol/openid-connect/token/introspect"],
    ["/realms/acme/.well-known/openid-configuration", "/realms/{realm}/.well-known/openid-configuration"],
    ["/realms/acme/login-actions/abc123/x509", "/realms/{realm}/login-actions/{id}/x509"],
    ["/realms/acme/login-actions/abc123", "/realms/{realm}/login-actions/{id}"],
    ["/realms/acme", "/realms/{realm}"],
    ["/realms/acme/anything/else", "/realms/{realm}/*"],
    ["/admin/realms/acme/users/42", "/admin/*"],
    ["/health/ready", "/health/ready"],
    ["/resources/idp.css", "/resources/*"],
    ["/wp-login.php", "other"],
  ])("%s → %s", (path, route) => expect(routeOf(path)).toBe(route));
});

describe("events", () => {
  it("count as Keycloak's user events and as logins by flow and method", async () => {
    const m = metrics();
    m.realm("r1", "acme");
    m.event({ realmId: "r1", type: "LOGIN", details: { auth_method: "openid-connect", auth_type: "x509" } });
    m.event({ realmId: "r1", type: "LOGIN", details: { auth_method: "openid-connect", auth_type: "x509 pwd" } });
    m.event({ realmId: "r1", type: "LOGIN_ERROR", error: "invalid_user_credentials", details: { grant_type: "password", auth_method: "x509", reason: "CERT_REVOKED" } });
    m.event({ realmId: "r1", type: "CLIENT_LOGIN", details: { grant_type: "client_credentials" } });
    m.event({ realmId: "r1", type: "LOGIN_ERROR", error: "Evil Error <script>", details: { auth_method: "x509", reason: "not a code" } });
    const text = (await m.text()).body;
    expect(text).toContain('keycloak_user_events_total{realm="acme",event="login",error=""} 2');
    expect(text).toContain('x509idp_logins_total{realm="acme",flow="browser",method="certificate",outcome="success",reason=""} 1');
    expect(text).toContain('x509idp_logins_total{realm="acme",flow="browser",method="password",outcome="success",reason=""} 1');
    expect(text).toContain('x509idp_logins_total{realm="acme",flow="direct_grant",method="certificate",outcome="error",reason="invalid_user_credentials"} 1');
    expect(text).toContain('x509idp_certificate_login_failures_total{realm="acme",flow="direct_grant",code="CERT_REVOKED"} 1');
    expect(text).toContain('x509idp_logins_total{realm="acme",flow="client",method="client",outcome="success",reason=""} 1');
    expect(text).toContain('x509idp_logins_total{realm="acme",flow="browser",method="certificate",outcome="error",reason="other"} 1');
    expect(text).toContain('x509idp_certificate_login_failures_total{realm="acme",flow="browser",code="other"} 1');
    expect(text).not.toContain("Evil");
  });

  it("token requests: unknown grant types and odd errors are \"other\"", async () => {
    const m = metrics();
    m.tokenRequest("acme", "client_credentials");
    m.tokenRequest("acme", "urn:made:up", "unsupported_grant_type");
    m.tokenRequest("acme", "password", "Not An Error Name");
    const text = (await m.text()).body;
    expect(text).toContain('x509idp_token_requests_total{realm="acme",grant_type="client_credentials",outcome="success"} 1');
    expect(text).toContain('x509idp_token_requests_total{realm="acme",grant_type="other",outcome="unsupported_grant_type"} 1');
    expect(text).toContain('x509idp_token_requests_total{realm="acme",grant_type="password",outcome="other"} 1');
  });
});
