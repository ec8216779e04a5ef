import assert from "node:assert/strict";
import { fitJitter, normalCdf, normalQuantile, WIFI_PROFILES } from "./wifi_profile.ts";

Deno.test("the profiles are the spec's, as quoted in docs/wifi-relay.md", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/wifi-relay.md", import.meta.url));
  const block = /```json\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, "a json block in docs/wifi-relay.md");
  assert.deepEqual(JSON.parse(block[1]), WIFI_PROFILES);
});

Deno.test("normal quantile and distribution function invert each other", () => {
  for (const p of [1e-6, 0.001, 0.02425, 0.1, 0.5, 0.9, 0.99, 0.999999]) {
    assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 1e-7 * Math.max(1, p * 10), `p ${p}`);
  }
  assert.ok(Math.abs(normalQuantile(0.99) - 2.3263478740408408) < 1e-8);
  assert.throws(() => normalQuantile(1), /0 < p < 1, got 1/);
});

Deno.test("the cut log-normal fit puts p50 and p99 at the spec's, whatever the cut removes", () => {
  for (const p of Object.values(WIFI_PROFILES)) {
    const f = fitJitter(p.jitter);
    const q = (x: number) => Math.exp(f.mu + f.sigma * normalQuantile(x * f.cdfAtMax));
    assert.ok(Math.abs(q(0.5) - p.jitter.p50_ms) < 1e-6 * p.jitter.p50_ms);
    assert.ok(Math.abs(q(0.99) - p.jitter.p99_ms) < 1e-6 * p.jitter.p99_ms);
    assert.ok(f.cdfAtMax < 1 && f.cdfAtMax > 0.99);
  }
});
