import assert from "node:assert/strict";
import { crossOriginReason } from "./origin.ts";

const h = (init: Record<string, string>) => new Headers(init);

Deno.test("same-origin and Origin-less requests pass the origin check", () => {
  assert.equal(
    crossOriginReason(h({ host: "10.0.0.2:8080", origin: "http://10.0.0.2:8080" })),
    null,
  );
  assert.equal(crossOriginReason(h({ host: "m32-server.local:8080" })), null);
  assert.equal(
    crossOriginReason(h({ host: "10.0.0.2:8080", "sec-fetch-site": "same-origin" })),
    null,
  );
});

Deno.test("another origin, another port, or an opaque origin is cross-origin", () => {
  assert.match(
    crossOriginReason(h({ host: "10.0.0.2:8080", origin: "http://evil.example" }))!,
    /evil\.example/,
  );
  assert.ok(crossOriginReason(h({ host: "10.0.0.2:8080", origin: "http://10.0.0.2:9999" })));
  assert.ok(crossOriginReason(h({ host: "10.0.0.2:8080", origin: "null" })));
  assert.ok(crossOriginReason(h({ origin: "http://10.0.0.2:8080" })), "no Host header");
});

Deno.test("Sec-Fetch-Site cross-site is refused even without Origin", () => {
  assert.match(
    crossOriginReason(h({ host: "10.0.0.2:8080", "sec-fetch-site": "cross-site" }))!,
    /cross-site/,
  );
});
