import assert from "node:assert/strict";
import { listenerMix, mixPacketRate } from "./headless_listener.ts";
import { leastLoaded } from "./listener_pool.ts";

const MAPPED = Array.from({ length: 16 }, (_, i) => i + 1);

Deno.test("listener pool: 20 listeners' mixes are spread over two threads by the packets they bring", () => {
  const loads = [0, 0];
  const pcmAt = [0, 0];
  let largest = 0;
  // Listeners are added one by one (a sweep measures at 1, 5, 10, …): balanced at every count.
  for (let i = 0; i < 20; i++) {
    const mix = listenerMix(i, MAPPED);
    const at = leastLoaded(loads);
    loads[at] += mixPacketRate(mix);
    largest = Math.max(largest, mixPacketRate(mix));
    if (mix.compression === "none") pcmAt[at]++;
    // Placed by i % 2, thread 1 got every PCM listener: 4 200 packets a second against 2 000.
    const gap = Math.abs(loads[0] - loads[1]);
    assert.ok(gap <= largest, `${i + 1} listeners: packets a second per thread ${loads}`);
  }
  assert.ok(pcmAt[0] > 0 && pcmAt[1] > 0, `PCM listeners per thread: ${pcmAt}`);
});

Deno.test("listener pool: an 8-channel 48 kHz PCM mix is six packets a packet time, Opus one", () => {
  assert.equal(
    mixPacketRate({ channels: [1, 2, 3, 4, 5, 6, 7, 8], compression: "none", sampleRate: 48000 }),
    1200,
  );
  assert.equal(
    mixPacketRate({ channels: [1, 2, 3, 4, 5, 6, 7, 8], compression: "opus", sampleRate: 48000 }),
    200,
  );
  assert.equal(leastLoaded([5, 3, 3]), 1);
});
