import assert from "node:assert/strict";
import { ManualClock } from "./clock.ts";

Deno.test("ManualClock fires its timers in time order during advance, each at its due time", () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
  clock.setTimeout(at("b"), 20);
  clock.setTimeout(at("a"), 10);
  const tick = clock.setInterval(at("tick"), 15);
  const never = clock.setTimeout(at("never"), 5);
  clock.clearTimeout(never);
  clock.setTimeout(at("same-time-later-set"), 10);
  clock.advance(31);
  assert.deepEqual(fired, [
    "a@10",
    "same-time-later-set@10",
    "tick@15",
    "b@20",
    "tick@30",
  ]);
  assert.equal(clock.now(), 31);
  assert.equal(clock.nextTimerAt(), 45);
  clock.clearInterval(tick);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(clock.nextTimerAt(), null);
});

Deno.test("a ManualClock timer set by a firing timer fires in the same advance when due", () => {
  const clock = new ManualClock(0);
  const fired: number[] = [];
  clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 5), 5);
  clock.advance(10);
  assert.deepEqual(fired, [10]);
  clock.set(100);
  assert.equal(clock.now(), 100, "set moves the clock as before");
});
