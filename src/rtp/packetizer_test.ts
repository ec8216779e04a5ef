import assert from "node:assert/strict";
import { framesPerPacketTime, MAX_HEADER_BYTES, planPackets } from "./packetizer.ts";
import { PTIMES_MS } from "../config/types.ts";

for (const channels of [1, 16, 32]) {
  for (const bps of [2, 3]) {
    Deno.test(`packetizer splits ${channels} ch × L${bps * 8} so no datagram exceeds 1400 bytes at every ptime`, () => {
      for (const ptime of PTIMES_MS) {
        for (const rate of [48000, 44100]) {
          const frames = framesPerPacketTime(rate, ptime);
          const plan = planPackets(frames, channels * bps, 1400);
          assert.ok(plan.maxDatagramBytes <= 1400, `${plan.maxDatagramBytes} > 1400`);
          assert.equal(
            plan.frameCounts.reduce((a, b) => a + b, 0),
            frames,
            "every frame sent once",
          );
          for (let i = 0; i < plan.packets; i++) {
            assert.ok(MAX_HEADER_BYTES + plan.frameCounts[i] * channels * bps <= 1400);
            if (i > 0) {
              assert.equal(
                plan.frameOffsets[i],
                plan.frameOffsets[i - 1] + plan.frameCounts[i - 1],
              );
            }
          }
          const most = plan.frameCounts[0];
          assert.ok(
            plan.frameCounts.every((n, i) =>
              (n === most || n === most - 1) && (i === 0 || n <= plan.frameCounts[i - 1])
            ),
            `even split, larger packets first: ${plan.frameCounts}`,
          );
          const framesFit = Math.floor((1400 - MAX_HEADER_BYTES) / (channels * bps));
          assert.equal(plan.packets, Math.ceil(frames / framesFit), "no more packets than needed");
        }
      }
    });
  }
}

Deno.test("packetizer refuses a datagram limit too small for one frame", () => {
  assert.throws(() => planPackets(240, 96, 100), /needs a datagram of 124 bytes/);
});

Deno.test("frames per packet time round 2.5 ms at 44.1 kHz", () => {
  assert.equal(framesPerPacketTime(48000, 5), 240);
  assert.equal(framesPerPacketTime(44100, 2.5), 110);
  assert.equal(framesPerPacketTime(48000, 1), 48);
});

Deno.test("a packet time that needs two datagrams is split evenly (2 ch × L24: 120 + 120, not 228 + 12)", () => {
  const plan = planPackets(240, 2 * 3, 1400);
  assert.deepEqual(plan.frameCounts, [120, 120]);
  assert.deepEqual(plan.frameOffsets, [0, 120]);
  // 32 ch × L24: 14 frames fit; 18 packets of 14 or 13 frames.
  const big = planPackets(240, 32 * 3, 1400);
  assert.equal(big.packets, 18);
  assert.deepEqual(big.frameCounts, [...Array(6).fill(14), ...Array(12).fill(13)]);
});
