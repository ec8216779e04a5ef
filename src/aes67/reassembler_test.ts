import assert from "node:assert/strict";
import { Reassembler, type ReassemblerStream } from "./reassembler.ts";
import type { Period } from "../audio/source.ts";

const RATE = 48000;

/** An L24 payload: `frames` frames of `channels` channels; sample = value(frame, channel). */
function l24(
  frames: number,
  channels: number,
  value: (f: number, c: number) => number,
): Uint8Array {
  const p = new Uint8Array(frames * channels * 3);
  let o = 0;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      const v = value(f, c) & 0xffffff;
      p[o++] = v >> 16;
      p[o++] = (v >> 8) & 0xff;
      p[o++] = v & 0xff;
    }
  }
  return p;
}

interface Out {
  frames: number[][];
  indexes: number[];
  media: number[];
}

function collector(channels: number): { out: Out; emit: (p: Period, m: number) => void } {
  const out: Out = { frames: [], indexes: [], media: [] };
  return {
    out,
    emit: (p, m) => {
      assert.equal(p.channels, 32);
      out.indexes.push(p.frameIndex);
      out.media.push(m);
      for (let f = 0; f < p.frames; f++) {
        out.frames.push(Array.from(p.data.subarray(f * 32, f * 32 + channels), (s) => s >> 8));
      }
    },
  };
}

function make(streams: ReassemblerStream[], framesPerPeriod = 240, waitMs = 2) {
  return new Reassembler({
    streams,
    outputChannels: 32,
    framesPerPeriod,
    sampleRate: RATE,
    waitMs,
  });
}

const L24x = (channels: number, mediaclkOffset = 0): ReassemblerStream => ({
  channels,
  bytesPerSample: 3,
  mediaclkOffset,
});

Deno.test("one in-order stream comes out sample-exact, a period as soon as its last packet is in", () => {
  const r = make([L24x(2)]);
  const { out, emit } = collector(2);
  const ts0 = 4294967296 - 48 * 30; // wraps through 2^32 on the way
  for (let k = 0; k < 100; k++) {
    r.push(
      0,
      (ts0 + k * 48) % 2 ** 32,
      l24(48, 2, (f, c) => (k * 48 + f) * 4 + c - 8_000_000),
      emit,
      k,
    );
    // 5 packets of 48 fill a 240-frame period: it leaves with the 5th, not later.
    assert.equal(out.indexes.length, Math.floor((k + 1) / 5));
  }
  assert.equal(out.frames.length, 100 * 48);
  out.frames.forEach((fr, i) => assert.deepEqual(fr, [i * 4 - 8_000_000, i * 4 + 1 - 8_000_000]));
  assert.deepEqual(out.indexes.slice(0, 3), [0, 240, 480]);
  assert.equal(out.media[1], (ts0 + 240) % 2 ** 32);
  assert.equal(r.stats.missingFrames + r.stats.lateFrames + r.stats.realigned, 0);
});

Deno.test("two streams are aligned by media clock (mediaclk offsets), whatever order they arrive in", () => {
  // Stream 2's timestamps are 1000 ahead by its announced offset, and its packets
  // come one packet time later than stream 1's and in a different size.
  const r = make([L24x(3, 5000), L24x(2, 6000)]);
  const { out, emit } = collector(5);
  const value = (t: number, ch: number) => t * 8 + ch; // the same instant → same t on both
  const first2 = 48; // stream 2 starts one packet later: its first frames must not be lost
  for (let k = 0; k < 60; k++) {
    r.push(0, 5000 + k * 48, l24(48, 3, (f, c) => value(k * 48 + f, c)), emit, k);
    const t2 = first2 + ((k - 1) / 2) * 96;
    if (k >= 1 && k % 2 === 1) {
      r.push(1, 6000 + t2, l24(96, 2, (f, c) => value(t2 + f, 3 + c)), emit, k);
    }
  }
  // Stream 2 starts at frame 48, so the first period (0–239) is dropped: every period out is whole.
  assert.equal(r.stats.discardedPeriods, 1);
  assert.equal(r.stats.missingFrames, 0);
  assert.equal(out.indexes[0], 240);
  for (let i = 0; i < out.frames.length; i++) {
    assert.deepEqual(out.frames[i], [0, 1, 2, 3, 4].map((c) => value(i + 240, c)), `frame ${i}`);
  }
  assert.ok(out.frames.length >= 240 * 10);
});

Deno.test("a reordered packet within the tolerance is placed; a lost one leaves silence and is counted", () => {
  const r = make([L24x(1)], 240, 2);
  const { out, emit } = collector(1);
  const order = [0, 1, 3, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]; // 2 after 3; 7 lost
  order.forEach((k, i) => r.push(0, k * 48, l24(48, 1, (f) => k * 48 + f + 1), emit, i));
  assert.equal(out.frames.length, 240 * 3);
  for (let i = 0; i < 720; i++) {
    const want = i >= 7 * 48 && i < 8 * 48 ? 0 : i + 1;
    assert.equal(out.frames[i][0], want, `frame ${i}`);
  }
  assert.equal(r.stats.missingFrames, 48);
  assert.equal(r.stats.lateFrames, 0);
  // Packet 7 arriving now is late: dropped and counted, nothing else changes.
  r.push(0, 7 * 48, l24(48, 1, () => 5), emit, 20);
  assert.equal(r.stats.lateFrames, 48);
});

Deno.test("a sender that restarts with new timestamps is realigned and its audio continues", () => {
  const r = make([L24x(1)]);
  const { out, emit } = collector(1);
  for (let k = 0; k < 10; k++) r.push(0, 1000 + k * 48, l24(48, 1, () => 7), emit, k);
  for (let k = 0; k < 10; k++) {
    r.push(0, 3_000_000_000 + k * 48, l24(48, 1, () => 9), emit, 10 + k);
  }
  assert.equal(r.stats.realigned, 1);
  assert.equal(out.frames.length, 960);
  assert.deepEqual(out.frames.map((f) => f[0]), [...Array(480).fill(7), ...Array(480).fill(9)]);
  assert.deepEqual(out.indexes, [0, 240, 480, 720]);
});

Deno.test("a sender whose timestamps step back a little resumes where its clock meets the buffer again", () => {
  const r = make([L24x(1)]);
  const { out, emit } = collector(1);
  for (let k = 0; k < 20; k++) r.push(0, 100_000 + k * 48, l24(48, 1, () => 1), emit, k);
  const before = out.frames.length;
  // 100 ms back: the packets are late until the clock reaches the read point again.
  for (let k = 0; k < 200; k++) r.push(0, 95_200 + k * 48, l24(48, 1, () => 2), emit, 20 + k);
  assert.equal(r.stats.realigned, 0);
  assert.equal(out.frames.length - before, 240 * Math.floor((95_200 + 200 * 48 - 100_960) / 240));
  assert.ok(out.frames.slice(before).every((f) => f[0] === 2));
  assert.deepEqual(out.indexes, out.indexes.map((_, i) => i * 240), "the timeline never jumps");
});

Deno.test("a stream that stays late for a second of audio is realigned", () => {
  const r = make([L24x(1)]);
  const { out, emit } = collector(1);
  for (let k = 0; k < 20; k++) r.push(0, 100_000 + k * 48, l24(48, 1, () => 1), emit, k);
  // Its clock runs backwards relative to ours: it never meets the read point.
  for (let k = 0; k < 1100; k++) {
    r.push(0, 90_000 - (k % 50) * 48, l24(48, 1, () => 2), emit, 20 + k);
  }
  assert.equal(r.stats.realigned, 1);
  assert.ok(out.frames.some((f) => f[0] === 2));
});

Deno.test("L16 is widened like the console's samples; malformed payloads are counted, not used", () => {
  const r = make([{ channels: 2, bytesPerSample: 2, mediaclkOffset: 0 }], 48);
  const seen: number[][] = [];
  const emit = (p: Period) => seen.push([p.data[0], p.data[1], p.data[2]]);
  const p = new Uint8Array(48 * 4);
  for (let f = 0; f < 48; f++) p.set([0x12, 0x34, 0xff, 0xfe], f * 4);
  r.push(0, 0, p, emit, 0);
  assert.deepEqual(seen[0], [0x12340000, -131072, 0]);
  r.push(0, 48, new Uint8Array(7), emit, 1);
  r.push(0, 48, new Uint8Array(0), emit, 1);
  assert.equal(r.stats.malformed, 2);
});

Deno.test("a stream that lags its sibling beyond the wait loses frames once, then the wait widens to fit", () => {
  const r = make([L24x(1), L24x(1)], 48, 1);
  const { out, emit } = collector(2);
  const lag = 3; // stream 2's packets come 3 packet times (144 frames) after stream 1's
  for (let k = 0; k < 400; k++) {
    r.push(0, k * 48, l24(48, 1, () => 1), emit, k);
    if (k >= lag) r.push(1, (k - lag) * 48, l24(48, 1, () => 2), emit, k);
  }
  assert.ok(r.stats.lateFrames > 0, "the first lagging pieces were too late");
  assert.ok(r.stats.waitMs >= 2 && r.stats.waitMs <= 4, `wait ${r.stats.waitMs} ms`);
  const lost = r.stats.lateFrames;
  // From here on the same lag loses nothing.
  const outBefore = out.frames.length;
  for (let k = 400; k < 800; k++) {
    r.push(0, k * 48, l24(48, 1, () => 1), emit, k);
    r.push(1, (k - lag) * 48, l24(48, 1, () => 2), emit, k);
  }
  assert.equal(r.stats.lateFrames, lost);
  const tail = out.frames.slice(outBefore);
  assert.ok(tail.length >= 390 * 48);
  assert.ok(tail.every((f) => f[0] === 1 && f[1] === 2));
});

Deno.test("a stream held up far behind its sibling loses its late pieces but is never shifted against it", () => {
  const r = make([L24x(1), L24x(1)], 240, 2);
  const { out, emit } = collector(2);
  const ramp = (t: number) => (f: number) => (t + f) % 48000;
  // Both run together, then stream 2's packets are held up 400 ms (beyond the buffer) and
  // delivered late in a burst, then both run together again.
  let t = 0;
  const ms = (frames: number) => frames / 48;
  for (let k = 0; k < 100; k++, t += 48) {
    r.push(0, t, l24(48, 1, ramp(t)), emit, ms(t));
    r.push(1, t, l24(48, 1, ramp(t)), emit, ms(t));
  }
  const heldFrom = t;
  for (let k = 0; k < 400; k++, t += 48) r.push(0, t, l24(48, 1, ramp(t)), emit, ms(t));
  for (let u = heldFrom; u < t; u += 48) r.push(1, u, l24(48, 1, ramp(u)), emit, ms(t));
  for (let k = 0; k < 100; k++, t += 48) {
    r.push(0, t, l24(48, 1, ramp(t)), emit, ms(t));
    r.push(1, t, l24(48, 1, ramp(t)), emit, ms(t));
  }
  assert.equal(r.stats.realigned, 0);
  assert.ok(r.stats.lateFrames > 0);
  // Stream 2 is silent where it was late, and never shifted: wherever it plays, it equals stream 1.
  const playing = out.frames.filter(([, b]) => b !== 0);
  assert.ok(playing.length >= 190 * 48);
  for (const [a, b] of playing) assert.equal(b, a);
});

Deno.test("a receiving thread that was held up and reads one stream's backlog first loses nothing", () => {
  const r = make([L24x(1), L24x(1)], 240, 2);
  const { out, emit } = collector(2);
  let t = 0;
  for (let k = 0; k < 50; k++, t += 48) {
    r.push(0, t, l24(48, 1, () => 1), emit, t / 48);
    r.push(1, t, l24(48, 1, () => 2), emit, t / 48);
  }
  // 100 ms held up: then stream 1's queued packets are read, then stream 2's, in the same instant.
  const from = t;
  const wake = t / 48 + 100;
  for (let u = from; u < from + 4800; u += 48) r.push(0, u, l24(48, 1, () => 1), emit, wake);
  for (let u = from; u < from + 4800; u += 48) r.push(1, u, l24(48, 1, () => 2), emit, wake);
  assert.equal(r.stats.missingFrames + r.stats.lateFrames, 0);
  assert.equal(out.frames.length, 50 * 48 + 4800 - (50 * 48) % 240);
  assert.ok(out.frames.every(([a, b]) => a === 1 && b === 2));
});

Deno.test("a payload inside a receive buffer (after the RTP header, before padding) is read in place", () => {
  const r = make([L24x(2)], 48);
  const { out, emit } = collector(2);
  const payload = l24(48, 2, (f, c) => f * 2 + c);
  const datagram = new Uint8Array(12 + payload.length + 4).fill(0xee);
  datagram.set(payload, 12);
  r.push(0, 0, datagram, emit, 0, 12, 12 + payload.length);
  assert.equal(out.frames.length, 48);
  out.frames.forEach((fr, f) => assert.deepEqual(fr, [f * 2, f * 2 + 1]));
  r.push(0, 48, datagram, emit, 1, 12, 12 + payload.length - 1);
  assert.equal(r.stats.malformed, 1);
});

Deno.test("duplicated or overlapping packets never make a period look complete", () => {
  const r = make([L24x(1)], 240, 2);
  const { out, emit } = collector(1);
  // Packets of 48 with one duplicated and one overlapping the previous by 5 frames:
  // frames 235–239 never come, so the period is incomplete and waits.
  for (const [ts, k] of [[0, 0], [48, 1], [48, 1], [96, 2], [144, 3], [187, 4]]) {
    r.push(0, ts, l24(48, 1, (f) => ts + f + 1), emit, k);
  }
  assert.equal(out.frames.length, 0, "frames 235–239 are missing: the period waits");
  assert.equal(r.stats.duplicateFrames, 48 + 5);
  r.push(0, 240, l24(48, 1, (f) => 241 + f), emit, 10); // past the end: overdue from now
  assert.equal(out.frames.length, 0);
  r.push(0, 288, l24(48, 1, (f) => 289 + f), emit, 13); // the 2 ms wait ran out
  assert.equal(out.frames.length, 240);
  assert.deepEqual(out.frames.slice(233).map((f) => f[0]), [234, 235, 0, 0, 0, 0, 0]);
  assert.equal(r.stats.missingFrames, 5);
});
