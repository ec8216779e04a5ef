import assert from "node:assert/strict";
import { AudioLiveness } from "./liveness.ts";

const O = { firstAudioTimeoutMs: 5000, stallMs: 1000, stallRetryMs: 3000 };

Deno.test("an acknowledged session is not live until its first packet arrives", () => {
  const l = new AudioLiveness(O);
  l.start(0);
  assert.equal(l.check(4999), "waiting");
  assert.equal(l.packet(4999), true, "the first packet makes it live");
  assert.equal(l.check(5000), "live");
  assert.equal(l.packet(5004), false, "the next ones change nothing");
});

Deno.test("a session that never gets a packet asks for a retry once", () => {
  const l = new AudioLiveness(O);
  l.start(100);
  assert.equal(l.check(5099), "waiting");
  assert.equal(l.check(5100), "retry");
  assert.equal(l.check(9000), "retry", "no new judgement until the next session");
  l.start(9000);
  assert.equal(l.check(9001), "waiting");
});

Deno.test("packets that stop make a live session stalled, then a retry; one coming back heals it", () => {
  const l = new AudioLiveness(O);
  l.start(0);
  l.packet(10);
  assert.equal(l.check(1009), "live");
  assert.equal(l.check(1010), "stalled");
  assert.equal(l.packet(2000), true, "audio back: live again");
  assert.equal(l.check(2500), "live");
  assert.equal(l.check(3000), "stalled");
  assert.equal(l.check(5999), "stalled");
  assert.equal(l.check(6000), "retry", "stalled since 3000 for 3000 ms");
});

Deno.test("a late check still times the stall from the last packet", () => {
  const l = new AudioLiveness(O);
  l.start(0);
  l.packet(0);
  // The page's timer was throttled: the first check comes 10 s later.
  assert.equal(l.check(10_000), "retry");
});

Deno.test("packets after stop do not make a stopped session live", () => {
  const l = new AudioLiveness(O);
  l.start(0);
  l.stop();
  assert.equal(l.packet(5), false);
  assert.equal(l.check(100_000), "waiting");
});
