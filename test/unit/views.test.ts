import { describe, expect, it } from "vitest";
import { createViews, pickLanguage } from "../../src/views.ts";

describe("views", () => {
  const views = createViews();

  it("picks the best language the catalogue has", () => {
    const have = new Set(["en", "de"]);
    expect(pickLanguage("de-CH,de;q=0.9,en;q=0.8", have)).toBe("de");
    expect(pickLanguage("fr-FR,fr;q=0.9,de;q=0.5", have)).toBe("de");
    expect(pickLanguage("fr", have)).toBe("en");
    expect(pickLanguage("de;q=0,en", have)).toBe("en");
    expect(pickLanguage(undefined, have)).toBe("en");
    expect(pickLanguage("garbage;;q=x,,", have)).toBe("en");
  });

  it("fills message arguments and falls back to English, then to the key", () => {
    expect(views.message("consentTitle", "de", "Shop")).toBe("Zugriff gewähren für Shop");
    expect(views.message("consentTitle", "fr", "Shop")).toBe("Grant access to Shop");
    expect(views.message("no.such.key", "en")).toBe("no.such.key");
  });

  it("escapes everything it renders from data", () => {
    const html = views.render("error", { title: "<t>", message: '<script>alert("x")</script>', realm: { name: "r", displayName: "<b>R</b>" } });
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("&lt;b&gt;R&lt;/b&gt;");
    expect(html).toContain("<title>&lt;t&gt;</title>");
  });

  it("every language has every English message", () => {
    // Every key used in English must exist in the other catalogues (the fallback would otherwise mix languages).
    const en = createViews();
    for (const key of ["loginAccountTitle", "invalidUserMessage", "accountDisabledMessage", "loginTimeout", "csrfMessage", "logoutConfirmHeader"]) {
      expect(en.message(key, "de")).not.toBe(en.message(key, "en"));
    }
  });
});
