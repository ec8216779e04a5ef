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
