import assert from "node:assert/strict";
import { httpsUrls, phoneUrl, qrAnswer, qrSvg } from "./qr.ts";

Deno.test("the phone URL names the first LAN address and the HTTP port", () => {
  const a = qrAnswer(["192.168.1.20", "10.0.0.5"], 8080);
  assert.equal(a.url, "http://192.168.1.20:8080/");
  assert.deepEqual(a.addresses, ["192.168.1.20", "10.0.0.5"]);
  assert.match(a.note!, /several/);
  assert.match(a.svg!, /^<svg[^>]*viewBox="0 0 \d+ \d+"/);
});

Deno.test("without a LAN address there is no URL and the answer says why", () => {
  const a = qrAnswer([], 8080);
  assert.equal(a.url, null);
  assert.equal(a.svg, null);
  assert.match(a.note!, /no LAN IPv4/);
});

Deno.test("the QR SVG has no script or inline style", () => {
  const svg = qrSvg(phoneUrl("10.1.2.3", 18080));
  assert.doesNotMatch(svg, /<script|style=|on\w+=/i);
  assert.match(svg, /<path d="M/);
});

Deno.test("with HTTPS listening the answer adds the secure page's code; the plain one stays", () => {
  const plain = qrAnswer(["192.168.1.20"], 8080);
  assert.equal(plain.https, null);
  const a = qrAnswer(["192.168.1.20", "10.0.0.5"], 8080, 8443, "m32-server.local");
  assert.equal(a.url, "http://192.168.1.20:8080/");
  assert.equal(a.https!.url, "https://192.168.1.20:8443/");
  assert.deepEqual(a.https!.urls, [
    "https://192.168.1.20:8443/",
    "https://10.0.0.5:8443/",
    "https://m32-server.local:8443/",
  ]);
  assert.match(a.https!.svg, /^<svg/);
  assert.notEqual(a.https!.svg, a.svg);
  assert.deepEqual(httpsUrls([], 9443, "stage.local"), ["https://stage.local:9443/"]);
});
