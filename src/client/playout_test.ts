import assert from "node:assert/strict";
import { type DecodedPacket, ThresholdPlayout } from "./playout.ts";

function packet(timestamp: number, arrivalMs: number): DecodedPacket {
  return {
    sequence: 0,
    timestamp,
    clockRate: 48000,
    arrivalMs,
    channels: 1,
    frames: 0,
    samples: new Int32Array(0),
  };
}

Deno.test("threshold playout conceals packets later than interpolate and drops past drop", () => {
  const p = new ThresholdPlayout({ interpolate: 100, drop: 200 });
  // 5 ms packets (240 ticks at 48 kHz); arrival = media time + extra delay.
  const extra = [0, 3, 99, 150, 250, 0];
  const late = extra.map((e, i) => p.push(packet(i * 240, 1000 + i * 5 + e)));
  assert.deepEqual(late, extra);
  assert.deepEqual([p.playedPackets, p.concealedPackets, p.droppedPackets], [4, 1, 1]);
  assert.equal(p.maxLatenessMs, 250);
});

Deno.test("threshold playout measures lateness from the fastest packet, across the wrap", () => {
  const p = new ThresholdPlayout({ interpolate: 10, drop: 20 });
  let ts = 0xffff_ff00;
  p.push(packet(ts, 500)); // 30 ms slower than the path really is
  ts = (ts + 480) >>> 0; // +10 ms, wrapped
  assert.equal(p.push(packet(ts, 480)), 0); // new fastest
  ts = (ts + 480) >>> 0;
  assert.equal(p.push(packet(ts, 505)), 15);
  assert.deepEqual([p.playedPackets, p.concealedPackets, p.droppedPackets], [2, 1, 0]);
  p.reset();
  assert.equal(p.push(packet(7, 9000)), 0);
});
