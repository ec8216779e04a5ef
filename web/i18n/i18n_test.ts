import { strict as assert } from "node:assert";
import { CATALOGUES, LANGUAGES, pickLanguage, t } from "./i18n.ts";

Deno.test("i18n: every catalogue has exactly the English keys, with the same placeholders", () => {
  const en = CATALOGUES.en as Record<string, string>;
  const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const lang of LANGUAGES) {
    const cat = CATALOGUES[lang] as Record<string, string>;
    assert.deepEqual(Object.keys(cat).sort(), Object.keys(en).sort(), `${lang} keys`);
    for (const key of Object.keys(en)) {
      assert.ok(cat[key].trim().length > 0, `${lang}.${key} is empty`);
      assert.deepEqual(vars(cat[key]), vars(en[key]), `${lang}.${key} placeholders`);
    }
  }
});

Deno.test("i18n: the browser's first language we speak wins, else English", () => {
  assert.equal(pickLanguage(["ko-KR", "en-US"]), "ko");
  assert.equal(pickLanguage(["fr-FR", "ko"]), "ko");
  assert.equal(pickLanguage(["en-GB", "ko-KR"]), "en");
  assert.equal(pickLanguage(["de"]), "en");
  assert.equal(pickLanguage([]), "en");
});

Deno.test("i18n: t() fills placeholders and picks the language", () => {
  assert.equal(t("language", undefined, "ko"), "언어");
  assert.equal(t("language", { unused: 1 }, "en"), "Language");
});

/** The server's strings in the catalogues: the listener's web app manifest. */
const SERVER_SOURCES = ["../../src/listener/pwa.ts"];

/** The page sources (not the catalogues, not the tests, not the built bundles), and SERVER_SOURCES. */
async function pageSources(): Promise<{ path: string; text: string }[]> {
  const web = new URL("../", import.meta.url);
  const out: { path: string; text: string }[] = [];
  const walk = async (dir: URL) => {
    for await (const e of Deno.readDir(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) {
        if (e.name !== "gen") await walk(url);
      } else if (/\.(ts|html)$/.test(e.name) && !/_test\.ts$/.test(e.name)) {
        if (/\/i18n\/(en|ko)\.ts$/.test(url.pathname)) continue;
        out.push({ path: url.pathname, text: await Deno.readTextFile(url) });
      }
    }
  };
  await walk(web);
  for (const rel of SERVER_SOURCES) {
    const url = new URL(rel, import.meta.url);
    out.push({ path: url.pathname, text: await Deno.readTextFile(url) });
  }
  return out;
}

Deno.test("i18n: every key the pages use exists, and every catalogue key is used", async () => {
  const en = CATALOGUES.en as Record<string, string>;
  const sources = await pageSources();
  assert.ok(sources.some((s) => s.path.endsWith("listener/index.html")), "found the pages");
  const used = new Set<string>();
  const missing: string[] = [];
  for (const { path, text } of sources) {
    // t("key" …) calls and data-i18n[-attr]="key" attributes must name a catalogue key.
    const refs = [
      ...text.matchAll(/\bt\(\s*["'`]([^"'`]+)["'`]/g),
      ...text.matchAll(/data-i18n(?:-[a-z-]+)?=["']([^"']+)["']/g),
      ...text.matchAll(/"data-i18n(?:-[a-z-]+)?":\s*["']([^"']+)["']/g),
    ].map((m) => m[1]);
    for (const k of refs) if (!(k in en)) missing.push(`${path}: ${k}`);
    // A key is used wherever the sources name it as a string (t("k"), a table of keys, data-i18n).
    for (const m of text.matchAll(/["'`]([a-z][a-z0-9_]*)["'`]/g)) if (m[1] in en) used.add(m[1]);
    for (const m of text.matchAll(/data-i18n(?:-[a-z-]+)?=["']([^"']+)["']/g)) used.add(m[1]);
  }
  assert.deepEqual(missing, [], "keys used but not in the catalogue");
  assert.deepEqual(Object.keys(en).filter((k) => !used.has(k)), [], "catalogue keys no page uses");
});

Deno.test("i18n: the static HTML's own text is the English catalogue's", async () => {
  // The HTML carries the English text (what shows before the script runs): it must not drift.
  const en = CATALOGUES.en as Record<string, string>;
  const differ: string[] = [];
  for (const { path, text } of await pageSources()) {
    if (!path.endsWith(".html")) continue;
    for (const m of text.matchAll(/data-i18n="([^"]+)"[^>]*>([^<]*)</g)) {
      const shown = m[2].replace(/\s+/g, " ").trim();
      if (shown !== en[m[1]]) differ.push(`${m[1]}: ${JSON.stringify(shown)} ≠ ${en[m[1]]}`);
    }
    // Markup from the catalogue: the same, tags and all.
    for (
      const m of text.matchAll(/<(p|li)\b[^>]*data-i18n-html="([^"]+)"[^>]*>([\s\S]*?)<\/\1>/g)
    ) {
      const shown = m[3].replace(/\s+/g, " ").trim();
      if (shown !== en[m[2]]) differ.push(`${m[2]}: ${JSON.stringify(shown)} ≠ ${en[m[2]]}`);
    }
  }
  assert.deepEqual(differ, []);
});

Deno.test("i18n: a server error shows the catalogue's text for its code, else its own message", async () => {
  const { errorText } = await import("./errors.ts");
  assert.equal(errorText("wrong_password", "wrong password"), t("err_wrong_password"));
  assert.match(
    errorText("too_many_attempts", "too many failed logins; try again in 42 s"),
    /42/,
  );
  assert.equal(errorText("something_new", "a new failure"), "a new failure");
  assert.equal(errorText("constructor", "not a catalogue entry"), "not a catalogue entry");
});
