import assert from "node:assert/strict";
import {
  multistreamByteLength,
  selfDelimitedByteLength,
  splitMultistream,
  writeMultistream,
} from "./opus_multistream.ts";
import {
  OPUS_FRAME_MS,
  OPUS_MAX_FRAME_BYTES,
  OpusMonoEncoder,
  type OpusRateControl,
} from "./opus_encoder.ts";
import { OpusMonoDecoder, OpusMultistreamDecoder } from "./opus_decoder.ts";

const RATE = 48000;
const TONE_AMPLITUDE = 0.1 * 2 ** 31; // −20 dBFS

/** `frames` frames of the `tone` test signal (channel c: (c+1)·100 Hz), left-justified s32. */
function toneFrames(channels: number, start: number, frames: number): Int32Array {
  const pcm = new Int32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      pcm[i * channels + c] = Math.round(
        TONE_AMPLITUDE * Math.sin(2 * Math.PI * (c + 1) * 100 * (start + i) / RATE),
      );
    }
  }
  return pcm;
}

/** Encodes `count` frames of N tone channels with N mono encoders; returns per-frame per-stream packets. */
function encodeStreams(
  channels: number,
  frameMs: number,
  count: number,
  rateControl: OpusRateControl = "cvbr",
): Uint8Array[][] {
  const encoders = Array.from(
    { length: channels },
    () => new OpusMonoEncoder({ sampleRate: RATE, frameMs, rateControl }),
  );
  const frameSize = encoders[0].frameSize;
  const result: Uint8Array[][] = [];
  for (let f = 0; f < count; f++) {
    const pcm = toneFrames(channels, f * frameSize, frameSize);
    result.push(encoders.map((e, c) => {
      const out = new Uint8Array(OPUS_MAX_FRAME_BYTES);
      return out.slice(0, e.encode(pcm, c, channels, out));
    }));
  }
  encoders.forEach((e) => e.close());
  return result;
}

function assemble(packets: Uint8Array[]): Uint8Array {
  const lengths = packets.map((p) => p.length);
  const size = multistreamByteLength(packets, lengths);
  const buf = new Uint8Array(size + 3);
  assert.equal(writeMultistream(buf, 3, packets, lengths), size);
  return buf.subarray(3);
}

/**
 * Decodes each frame's assembled multistream packet with opus_multistream_decode and each
 * stream's own packet with a mono opus_decode; the two must be sample-for-sample identical.
 */
function assertMultistreamDecodesLikeMono(frames: Uint8Array[][], frameSamples: number): void {
  const n = frames[0].length;
  const ms = new OpusMultistreamDecoder({ sampleRate: RATE, channels: n });
  const monos = Array.from({ length: n }, () => new OpusMonoDecoder(RATE));
  const msPcm = new Int16Array(ms.maxFrames * n);
  const monoPcm = new Int16Array(ms.maxFrames);
  for (const [f, packets] of frames.entries()) {
    const assembled = assemble(packets);
    const got = ms.decodeInt16(assembled, assembled.length, msPcm);
    assert.equal(got, frameSamples, `frame ${f}: multistream decoded ${got} samples`);
    for (let c = 0; c < n; c++) {
      assert.equal(monos[c].decodeInt16(packets[c], packets[c].length, monoPcm), frameSamples);
      for (let i = 0; i < frameSamples; i++) {
        if (msPcm[i * n + c] !== monoPcm[i]) {
          assert.fail(
            `frame ${f} stream ${c} sample ${i}: multistream ${msPcm[i * n + c]}, mono ${
              monoPcm[i]
            }`,
          );
        }
      }
    }
    assert.deepEqual(splitMultistream(assembled, n), packets, `frame ${f}: split ≠ original`);
  }
  ms.close();
  monos.forEach((m) => m.close());
}

for (const channels of [1, 2, 16, 32]) {
  Deno.test(`libopus opus_multistream_decode decodes our ${channels}-stream packets exactly like the mono streams, all frame sizes`, () => {
    for (const frameMs of OPUS_FRAME_MS) {
      assertMultistreamDecodesLikeMono(encodeStreams(channels, frameMs, 6), RATE * frameMs / 1000);
    }
  });
}

Deno.test("multistream framing handles equal-size CBR packets", () => {
  const frames = encodeStreams(4, 5, 5, "cbr");
  const sizes = new Set(frames.flat().map((p) => p.length));
  assert.equal(sizes.size, 1, `CBR packets of sizes ${[...sizes]}`);
  assertMultistreamDecodesLikeMono(frames, 240);
});

/** Frames in a packet from its TOC code and count byte (RFC 6716 §3.2). */
function framesIn(packet: Uint8Array): number {
  const code = packet[0] & 3;
  return code === 0 ? 1 : code === 3 ? packet[1] & 0x3f : 2;
}

/** Repacks single-frame code-0 packets into one packet of code 1, 2 or 3 (RFC 6716 §3.2). */
function repack(
  code: number,
  parts: Uint8Array[],
  options: { vbr?: boolean; padding?: number } = {},
): Uint8Array {
  const toc = (parts[0][0] & 0xfc) | code;
  const data = parts.map((p) => p.subarray(1));
  const bytes: number[] = [toc];
  const len = (n: number) => n < 252 ? [n] : [252 + (n & 3), (n - 252 - (n & 3)) >> 2];
  if (code === 1) assert.equal(data[0].length, data[1].length);
  if (code === 2) bytes.push(...len(data[0].length));
  if (code === 3) {
    const padding = options.padding ?? 0;
    bytes.push((options.vbr ? 0x80 : 0) | (padding > 0 ? 0x40 : 0) | data.length);
    if (padding > 0) {
      let left = padding;
      while (left >= 255) {
        bytes.push(255);
        left -= 254;
      }
      bytes.push(left);
    }
    if (options.vbr) data.slice(0, -1).forEach((d) => bytes.push(...len(d.length)));
  }
  data.forEach((d) => bytes.push(...d));
  if (code === 3) bytes.push(...new Array(options.padding ?? 0).fill(0));
  return Uint8Array.from(bytes);
}

Deno.test("multistream framing round-trips and decodes code 1, 2 and 3 (VBR, padded) packets", () => {
  const vbr = encodeStreams(1, 2.5, 4, "vbr").map((f) => f[0]);
  const cbr = encodeStreams(1, 2.5, 4, "cbr").map((f) => f[0]);
  const streams = [
    repack(2, [vbr[0], vbr[1]]),
    repack(3, [vbr[0], vbr[1], vbr[2]], { vbr: true, padding: 300 }),
    repack(1, [cbr[0], cbr[1]]),
    repack(3, [cbr[0], cbr[1], cbr[2], cbr[3]], { padding: 3 }),
    repack(3, [vbr[2], vbr[3]], { vbr: true }),
  ];
  // Each stream here holds a different number of frames; put each first and last in turn
  // with a copy of itself so the decoder sees equal durations.
  for (const s of streams) {
    assertMultistreamDecodesLikeMono(
      [[s, s, s]],
      120 * framesIn(s),
    );
  }
});

Deno.test("self-delimited framing matches the RFC 6716 Appendix B byte layout", () => {
  // config 31 (CELT FB 20 ms), mono, code 0; frames of 3 and 300 bytes.
  const small = Uint8Array.from([0xf8, 1, 2, 3]);
  const big = new Uint8Array(301).fill(7);
  big[0] = 0xf8;
  const last = Uint8Array.from([0xf8, 9]);
  assert.equal(selfDelimitedByteLength(small, 4), 5);
  assert.equal(selfDelimitedByteLength(big, 301), 303);
  const packets = [small, big, last];
  const lengths = [4, 301, 2];
  const out = new Uint8Array(multistreamByteLength(packets, lengths));
  assert.equal(writeMultistream(out, 0, packets, lengths), 5 + 303 + 2);
  assert.deepEqual([...out.subarray(0, 5)], [0xf8, 3, 1, 2, 3]);
  // 300 = 4·12 + 252: two-byte length [252, 12] (RFC 6716 §3.2.1).
  assert.deepEqual([...out.subarray(5, 8)], [0xf8, 252, 12]);
  assert.deepEqual([...out.subarray(308)], [0xf8, 9]);
  assert.deepEqual(splitMultistream(out, 3), packets);
  // A sub-range of streams makes its own multistream packet.
  const part = new Uint8Array(multistreamByteLength(packets, lengths, 1, 2));
  writeMultistream(part, 0, packets, lengths, 1, 2);
  assert.deepEqual(splitMultistream(part, 2), [big, last]);
});

Deno.test("multistream writer and splitter reject bad lengths naming both numbers", () => {
  const p = Uint8Array.from([0xf8, 1, 2, 3]);
  assert.throws(() => writeMultistream(new Uint8Array(5), 0, [p, p], [4, 4]), {
    name: "RangeError",
    message: /needs 9 bytes from offset 0, buffer has 5/,
  });
  assert.throws(() => multistreamByteLength([p], [5]), /length 5 is outside 1–4/);
  assert.throws(() => multistreamByteLength([p], [0]), RangeError);
  // A self-delimited length that runs past the end.
  assert.throws(() => splitMultistream(Uint8Array.from([0xf8, 9, 1, 2, 0xf8]), 2), {
    name: "RangeError",
    message: /needs 11 bytes, 5 left/,
  });
  // Too few streams present.
  assert.throws(() => splitMultistream(Uint8Array.from([0xf8, 1, 1]), 3), RangeError);
  // Code 1 with an odd number of frame bytes.
  assert.throws(
    () => splitMultistream(Uint8Array.from([0xf9, 1, 2, 3]), 1),
    /do not split into 2 equal frames/,
  );
  // Code 3 over 120 ms: 7 frames of 20 ms.
  assert.throws(
    () => splitMultistream(Uint8Array.from([0xfb, 7, 0, 0, 0, 0, 0, 0, 0]), 1),
    /exceed 120 ms/,
  );
});
