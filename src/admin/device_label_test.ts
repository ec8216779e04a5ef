import assert from "node:assert/strict";
import { DEVICE_LABEL_MAX, deviceLabel } from "./device_label.ts";

const IPHONE_SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const IPHONE_CHROME =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1";
const PIXEL_CHROME =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
const REDUCED_CHROME =
  "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
const SAMSUNG =
  "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36";
const FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0";
const MAC_SAFARI =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const HEADLESS =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36";

Deno.test("device labels name the phone and its browser from the User-Agent", () => {
  assert.equal(deviceLabel(IPHONE_SAFARI), "iPhone · Safari");
  assert.equal(deviceLabel(IPHONE_CHROME), "iPhone · Chrome");
  assert.equal(deviceLabel(PIXEL_CHROME), "Android (Pixel 8) · Chrome");
  assert.equal(deviceLabel(REDUCED_CHROME), "Android · Chrome");
  assert.equal(deviceLabel(SAMSUNG), "Android (SM-S911B) · Samsung Internet");
  assert.equal(deviceLabel(FIREFOX_ANDROID), "Android · Firefox");
  assert.equal(deviceLabel(MAC_SAFARI), "Mac · Safari");
  assert.equal(deviceLabel(HEADLESS), "Linux · Chrome");
});

Deno.test("device labels name other clients by their first product token", () => {
  assert.equal(deviceLabel("Deno/2.9.6"), "Deno");
  assert.equal(deviceLabel("curl/8.5.0"), "curl");
  assert.equal(deviceLabel("   "), null);
});

Deno.test("a device label stays short and printable whatever the User-Agent", () => {
  const label = deviceLabel(`${"x".repeat(500)}\u0000/1`)!;
  assert.equal(label.length, DEVICE_LABEL_MAX);
  assert.ok(label.endsWith("…"));
  assert.equal(deviceLabel("Evil\nAgent/1"), "Evil");
});
