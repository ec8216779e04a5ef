import assert from "node:assert/strict";
import { clockSample, ClockSync } from "./clock_sync.ts";

Deno.test("clock sample follows the contract's round-trip and offset formulas", () => {
  // Server clock is 1000 ms ahead; 10 ms out, 2 ms in the server, 6 ms back.
  const s = clockSample(0, 1010, 1012, 18);
  assert.equal(s.rttMs, 16); // (18 − 0) − (1012 − 1010)
  assert.equal(s.offsetMs, 1002); // ((1010 − 0) + (1012 − 18)) / 2: asymmetry of 4 ms → 2 ms error
});

Deno.test("clock sync discards samples with a round trip above 100 ms or below zero", () => {
  const c = new ClockSync();
  assert.equal(c.add(0, 600, 600, 101), null);
  assert.equal(c.add(0, 10, 10, -1), null);
  assert.equal(c.synced, false);
  assert.equal(c.offsetMs, 0);
  assert.ok(c.add(0, 550, 550, 100) !== null); // exactly 100 ms is kept
  assert.deepEqual([c.accepted, c.discarded, c.offsetMs, c.rttMs], [1, 2, 500, 100]);
});

Deno.test("clock sync uses the lowest round-trip sample of the window", () => {
  const c = new ClockSync(3);
  c.add(0, 510, 510, 40); // rtt 40, offset 490
  c.add(100, 605, 605, 110); // rtt 10, offset 500
  c.add(200, 720, 720, 260); // rtt 60, offset 490
  assert.deepEqual([c.offsetMs, c.rttMs], [500, 10]);
  c.add(300, 830, 830, 350); // rtt 50 — window is now the last three
  assert.deepEqual([c.offsetMs, c.rttMs], [500, 10]);
  c.add(400, 925, 925, 430); // rtt 30, offset 510; the rtt-10 sample falls out
  assert.deepEqual([c.offsetMs, c.rttMs], [510, 30]);
  assert.equal(c.toServerTime(1000), 1510);
});

Deno.test("clock sync remembers the worst round trip any offset it gave came from", () => {
  const c = new ClockSync(2);
  assert.equal(c.worstUsedRttMs, 0);
  c.add(0, 510, 510, 40); // rtt 40: the only sample, so it gives the offset
  c.add(100, 605, 605, 110); // rtt 10 takes over
  assert.deepEqual([c.rttMs, c.worstUsedRttMs], [10, 40]);
  c.add(200, 720, 720, 280); // rtt 80, never the best while rtt 10 is in the window
  assert.equal(c.worstUsedRttMs, 40);
  c.add(300, 830, 830, 370); // rtt 70: the rtt-10 sample falls out, 70 < 80 gives the offset
  assert.deepEqual([c.rttMs, c.worstUsedRttMs], [70, 70]);
});
