import assert from "node:assert/strict";
import {
  checkScenario,
  FRAMES,
  groupPackets,
  GROUPS,
  SCENARIOS,
  sharedPath,
} from "../../tests/helpers/opus_groups.ts";
import { OpusMultistreamDecoder } from "../../src/codec/opus_decoder.ts";
import { tocFrameMs, WasmOpusDecoders, WasmOpusFrameDecoder } from "./opus_wasm.ts";

const packets = groupPackets();
const RATE = 48000;

/** A factory with one prepared decoder per group (what the page does when an ack arrives). */
async function prepared(): Promise<WasmOpusDecoders> {
  const pool = new WasmOpusDecoders();
  await pool.prepare(GROUPS.map((g) => g.length), RATE);
  return pool;
}

for (const sc of SCENARIOS) {
  Deno.test(`Opus groups (the page's wasm decoder): ${sc.name}`, async () => {
    const decoders = await prepared();
    const reference = await prepared();
    const path = sharedPath(decoders.factory);
    try {
      checkScenario(sc, packets, reference.factory, path);
    } finally {
      path.receiver.close();
      decoders.close();
      reference.close();
    }
  });
}

Deno.test("wasm decoder decodes and conceals one frame as libopus does", async () => {
  const n = GROUPS[0].length;
  const wasm = await WasmOpusFrameDecoder.create(n, RATE);
  const ffi = new OpusMultistreamDecoder({ sampleRate: RATE, channels: n });
  const a = new Float32Array(5760 * n), b = new Float32Array(5760 * n);
  const maxDiff = (frames: number) => {
    let d = 0;
    for (let i = 0; i < frames * n; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
    return d;
  };
  try {
    for (let k = 0; k < 4; k++) {
      const p = packets[k][0].payload;
      assert.equal(wasm.decode(p, a, 0), FRAMES);
      assert.equal(ffi.decodeFloat(p, p.length, b), FRAMES);
      assert.ok(maxDiff(FRAMES) < 1e-4, `packet ${k}: ${maxDiff(FRAMES)}`);
    }
    // A lost packet: one frame of concealment (not the wrapper's 120 ms), not silence.
    assert.equal(wasm.decode(null, a, FRAMES), FRAMES);
    assert.equal(ffi.decodeFloat(null, 0, b, FRAMES), FRAMES);
    assert.ok(maxDiff(FRAMES) < 1e-3, `concealment: ${maxDiff(FRAMES)}`);
    let energy = 0;
    for (let i = 0; i < FRAMES * n; i++) energy += a[i] * a[i];
    assert.ok(Math.sqrt(energy / (FRAMES * n)) > 0.03, "the concealment is audible");
    assert.throws(() => wasm.decode(null, a, 7), /conceals frames of 2.5\/5\/10\/20 ms, not/);
  } finally {
    wasm.close();
    ffi.close();
  }
});

Deno.test("wasm decoder with nothing decoded yet conceals silence of the asked length", async () => {
  const wasm = await WasmOpusFrameDecoder.create(3, 24000);
  try {
    const out = new Float32Array(5760 * 3).fill(1);
    assert.equal(wasm.decode(null, out, 120), 120);
    assert.ok(out.subarray(0, 360).every((x) => x === 0));
  } finally {
    wasm.close();
  }
});

Deno.test("TOC frame durations follow RFC 6716 table 2", () => {
  assert.deepEqual([0, 3, 12, 13, 16, 29, 31].map((c) => tocFrameMs(c << 3)), [
    10,
    60,
    10,
    20,
    2.5,
    5,
    20,
  ]);
});

Deno.test("decoders are made ahead; an unprepared shape or a newer prepare is refused by the factory", async () => {
  const pool = new WasmOpusDecoders();
  const first = pool.prepare([2, 1], RATE);
  const second = pool.prepare([3], 24000);
  await Promise.all([first, second]);
  assert.throws(() => pool.factory(2, RATE), /no Opus decoder of 2 channels at 48000 Hz/);
  const d = pool.factory(3, 24000);
  assert.throws(() => pool.factory(3, 24000), /was prepared/);
  d.close();
  await pool.prepare([1], 44100);
  assert.throws(
    () => pool.factory(1, 44100),
    /Opus decodes at 8000\/12000\/16000\/24000\/48000 Hz, not 44100/,
  );
  pool.close();
});
