import assert from "node:assert/strict";
import { ManualClock } from "../util/clock.ts";
import { REPORT_WINDOW_MS, ReportRateLimiter, REPORTS_PER_WINDOW } from "./report_rate_limit.ts";

Deno.test("the 11th report within one second from one address is refused, the next second admitted", () => {
  const clock = new ManualClock();
  const limiter = new ReportRateLimiter(clock);
  for (let i = 0; i < REPORTS_PER_WINDOW; i++) {
    assert.deepEqual(limiter.admit("10.0.0.5"), { ok: true }, `report ${i + 1}`);
    clock.advance(50);
  }
  const refused = limiter.admit("10.0.0.5");
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.retryAfterMs, REPORT_WINDOW_MS - 10 * 50);
  assert.deepEqual(limiter.admit("10.0.0.6"), { ok: true }, "limits are per address");
  clock.advance(500);
  assert.deepEqual(limiter.admit("10.0.0.5"), { ok: true }, "the first report left the window");
  assert.equal(limiter.admit("10.0.0.5").ok, false, "the second is still inside it");
});

Deno.test("the window slides: 10 reports at the end of one second and 10 at the start of the next are not 20 admitted", () => {
  const clock = new ManualClock();
  const limiter = new ReportRateLimiter(clock);
  clock.advance(990);
  for (let i = 0; i < REPORTS_PER_WINDOW; i++) assert.ok(limiter.admit("a").ok);
  clock.advance(20);
  assert.equal(limiter.admit("a").ok, false);
});

Deno.test("a refused report does not count: a client that keeps flooding is served once a second", () => {
  const clock = new ManualClock();
  const limiter = new ReportRateLimiter(clock);
  let admitted = 0;
  for (let ms = 0; ms < 5000; ms += 10) {
    if (limiter.admit("a").ok) admitted++;
    clock.advance(10);
  }
  assert.equal(admitted, 5 * REPORTS_PER_WINDOW);
});

Deno.test("addresses that went quiet are forgotten, and at most maxAddresses are kept", () => {
  const clock = new ManualClock();
  const limiter = new ReportRateLimiter(clock, REPORTS_PER_WINDOW, REPORT_WINDOW_MS, 100);
  for (let i = 0; i < 1000; i++) limiter.admit(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(limiter.size, 100, "bounded while a flood is inside one window");
  clock.advance(REPORT_WINDOW_MS);
  limiter.admit("10.9.9.9");
  assert.equal(limiter.size, 1, "the quiet ones expired");
});
