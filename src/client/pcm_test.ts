import assert from "node:assert/strict";
import { decodePcmInto, encodePcmInto, PcmDecoder, pcmToFloat } from "./pcm.ts";

Deno.test("L16 decode reads big-endian two's complement, interleaved", () => {
  // frame 0: ch1 = 1, ch2 = −1; frame 1: ch1 = 32767, ch2 = −32768
  const payload = new Uint8Array([0x00, 0x01, 0xff, 0xff, 0x7f, 0xff, 0x80, 0x00]);
  const out = new Int32Array(4);
  assert.equal(decodePcmInto(payload, 0, 8, "L16", 2, out), 2);
  assert.deepEqual(Array.from(out), [1, -1, 32767, -32768]);
});

Deno.test("L24 decode reads big-endian two's complement at an offset", () => {
  const payload = new Uint8Array([
    0xaa, // not payload
    0x00,
    0x00,
    0x20, // 32
    0xff,
    0xff,
    0xfe, // −2
    0x7f,
    0xff,
    0xff, // 8388607
    0x80,
    0x00,
    0x00, // −8388608
  ]);
  const out = new Int32Array(4);
  assert.equal(decodePcmInto(payload, 1, 12, "L24", 1, out), 4);
  assert.deepEqual(Array.from(out), [32, -2, 8388607, -8388608]);
});

Deno.test("PCM encode then decode round-trips test-mode channel ids", () => {
  const values = [1, 5, 32, 1, 5, 32, -7, 0, 8388607];
  for (const enc of ["L16", "L24"] as const) {
    const v = enc === "L16" ? values.map((x) => Math.max(-32768, Math.min(32767, x))) : values;
    const buf = new Uint8Array(64);
    const n = encodePcmInto(v, enc, buf, 3);
    const d = new PcmDecoder();
    assert.equal(d.decode(buf, 3, n, enc, 3), 3);
    assert.deepEqual(Array.from(d.samples.subarray(0, 9)), v);
  }
});

Deno.test("PCM decode refuses a payload that is not whole frames", () => {
  assert.throws(
    () => decodePcmInto(new Uint8Array(10), 0, 10, "L24", 3, new Int32Array(10)),
    /L24 payload of 10 bytes is not whole 9-byte frames/,
  );
  assert.throws(
    () => decodePcmInto(new Uint8Array(4), 0, 8, "L16", 1, new Int32Array(10)),
    /needs 8 bytes, got 4/,
  );
});

Deno.test("PCM decoder grows its buffer for a large payload", () => {
  const d = new PcmDecoder();
  const buf = new Uint8Array(3 * 2000);
  assert.equal(d.decode(buf, 0, buf.length, "L24", 2), 1000);
  assert.ok(d.samples.length >= 2000);
});

Deno.test("PCM to float maps full scale to −1", () => {
  assert.equal(pcmToFloat(-32768, "L16"), -1);
  assert.equal(pcmToFloat(-8388608, "L24"), -1);
  assert.equal(pcmToFloat(4194304, "L24"), 0.5);
});
