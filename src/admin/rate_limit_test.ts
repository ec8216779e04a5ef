import assert from "node:assert/strict";
import { ManualClock } from "../util/clock.ts";
import { LoginRateLimiter } from "./rate_limit.ts";

Deno.test("five failures within a minute block the sixth attempt from that address", () => {
  const clock = new ManualClock();
  const rl = new LoginRateLimiter(clock);
  for (let i = 0; i < 5; i++) {
    assert.equal(rl.retryAfterMs("10.0.0.1"), 0, `attempt ${i + 1} is allowed`);
    rl.fail("10.0.0.1");
    clock.advance(1000);
  }
  assert.ok(rl.retryAfterMs("10.0.0.1") > 0);
  assert.equal(rl.retryAfterMs("10.0.0.2"), 0, "other addresses are not affected");
});

Deno.test("the block lifts when the oldest failure leaves the one-minute window", () => {
  const clock = new ManualClock();
  const rl = new LoginRateLimiter(clock);
  for (let i = 0; i < 5; i++) {
    rl.fail("a");
    clock.advance(1000);
  }
  // First failure at t0, now t0+5 s: blocked for another 55 s.
  assert.equal(rl.retryAfterMs("a"), 55_000);
  clock.advance(54_999);
  assert.ok(rl.retryAfterMs("a") > 0);
  clock.advance(1);
  assert.equal(rl.retryAfterMs("a"), 0);
});

Deno.test("failures spread over more than a minute never block", () => {
  const clock = new ManualClock();
  const rl = new LoginRateLimiter(clock);
  for (let i = 0; i < 20; i++) {
    assert.equal(rl.retryAfterMs("a"), 0);
    rl.fail("a");
    clock.advance(15_001);
  }
});

Deno.test("a successful login forgets earlier failures", () => {
  const clock = new ManualClock();
  const rl = new LoginRateLimiter(clock);
  for (let i = 0; i < 4; i++) rl.fail("a");
  rl.succeed("a");
  rl.fail("a");
  assert.equal(rl.retryAfterMs("a"), 0);
});
