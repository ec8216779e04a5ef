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
          const full = plan.frameCounts[0];
          assert.ok(
            plan.frameCounts.slice(0, -1).every((n) => n === full),
            "all full but the last",
          );
          assert.ok(plan.frameCounts.at(-1)! <= full, "the last takes the remainder");
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
