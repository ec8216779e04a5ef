import assert from "node:assert/strict";
import { Hono } from "hono";
import { acceptedLanguages, manifest, mountPwa } from "./pwa.ts";

Deno.test("pwa: Accept-Language is read by weight, then by order; q=0 is refused", () => {
  assert.deepEqual(acceptedLanguages("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"), [
    "ko-KR",
    "ko",
    "en-US",
    "en",
  ]);
  assert.deepEqual(acceptedLanguages("en;q=0.5, ko"), ["ko", "en"]);
  assert.deepEqual(acceptedLanguages("ko;q=0, fr"), ["fr"]);
  assert.deepEqual(acceptedLanguages(undefined), []);
});

Deno.test("pwa: the manifest speaks the phone's language (its home screen shows it)", async () => {
  const app = new Hono();
  mountPwa(app, {});
  const get = async (lang?: string) => {
    const r = await app.request("/manifest.webmanifest", {
      headers: lang ? { "accept-language": lang } : {},
    });
    assert.equal(r.headers.get("vary"), "Accept-Language");
    return await r.json();
  };
  const ko = await get("ko-KR,ko;q=0.9,en;q=0.8");
  assert.equal(ko.lang, "ko");
  assert.match(ko.name, /^M32 모니터 · /);
  assert.match(ko.description, /나만의 모니터 믹스$/);
  assert.deepEqual(await get("en-US"), manifest());
  assert.deepEqual(await get(), manifest());
  assert.equal(manifest("stage-box", "ko").description, "stage-box에서 받는 나만의 모니터 믹스");
});
