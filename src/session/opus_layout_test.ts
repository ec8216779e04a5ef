/**
 * Opus layouts with a fake encoder (no libopus): how N channels are grouped
 * into multistream packets, how many packets a period yields, the byte
 * budget per datagram and the framing of RFC 7845 §5.1.1 as we use it.
 */
import assert from "node:assert/strict";
import type { Period } from "../audio/source.ts";
import type { OpusEncoderOptions } from "../codec/opus_encoder.ts";
import { splitMultistream } from "../codec/opus_multistream.ts";
import { opusFrameMsFor, opusPlanFor } from "../codec/opus_plan.ts";
import { PTIMES_MS } from "../config/types.ts";
import { MAX_HEADER_BYTES } from "../rtp/packetizer.ts";
import {
  type MonoEncoder,
  opusChannelGroups,
  type OpusEncoderFactory,
  OpusLayouts,
  type OpusTier,
} from "./opus_layout.ts";

/** RFC 6716 §3.1 Table 2: CELT-only fullband configs 28–31 are 2.5/5/10/20 ms frames. */
const CELT_FB_CONFIG: Record<number, number> = { 2.5: 28, 5: 29, 10: 30, 20: 31 };
const TOC_CONFIG_SHIFT = 3;
/** Bytes of the fake packet before its filler: TOC, channel id, 24-bit frame index. */
const FAKE_HEADER_BYTES = 5;

/**
 * A CBR "encoder": a code-0 packet (RFC 6716 §3.2.2) of exactly bitrate × frame
 * bytes that says which channel and which first frame it was given. The test
 * periods put (channel << 24 | frame index) in every sample.
 */
class FakeEncoder implements MonoEncoder {
  readonly frameSize: number;
  readonly bytes: number;
  encodes = 0;
  closed = false;
  constructor(readonly options: OpusEncoderOptions) {
    this.frameSize = (options.sampleRate * options.frameMs) / 1000;
    this.bytes = Math.round((options.bitrate! * options.frameMs) / 8000);
  }
  encode(src: Int32Array, offset: number, stride: number, out: Uint8Array): number {
    const last = offset + (this.frameSize - 1) * stride;
    if (last >= src.length) throw new RangeError(`needs index ${last}, got ${src.length}`);
    if (this.closed) throw new Error("encoder is closed");
    this.encodes++;
    const first = src[offset];
    out[0] = CELT_FB_CONFIG[this.options.frameMs] << TOC_CONFIG_SHIFT;
    out[1] = first >>> 24;
    out[2] = (first >> 16) & 0xff;
    out[3] = (first >> 8) & 0xff;
    out[4] = first & 0xff;
    out.fill(0xa5, FAKE_HEADER_BYTES, this.bytes);
    return this.bytes;
  }
  close(): void {
    this.closed = true;
  }
}

function fakeFactory() {
  const made: FakeEncoder[] = [];
  const factory: OpusEncoderFactory = (o) => {
    const e = new FakeEncoder(o);
    made.push(e);
    return e;
  };
  return { made, factory, encodes: () => made.reduce((n, e) => n + e.encodes, 0) };
}

/** What FakeEncoder wrote for `channel` at `frameIndex`. */
function fakeHead(channel: number, frameIndex: number): number[] {
  return [channel, (frameIndex >> 16) & 0xff, (frameIndex >> 8) & 0xff, frameIndex & 0xff];
}

/** A 48 kHz period whose every sample is (channel << 24 | its frame index). */
function period(frameIndex: number, frames: number, channels = 32): Period {
  const data = new Int32Array(frames * channels);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) data[f * channels + c] = ((c + 1) << 24) | (frameIndex + f);
  }
  return {
    data,
    frames,
    channels,
    sampleRate: 48000,
    frameIndex,
    captureTimeMs: 1e12 + frameIndex / 48,
  };
}

const TIER_5MS: OpusTier = { bitrate: 64000, maxBandwidth: 1105, frameMs: 5 };
const ALL_32 = Array.from({ length: 32 }, (_, i) => i + 1);

// ── channel-group arithmetic ────────────────────────────────────────────────

Deno.test("channel groups: the fewest balanced consecutive groups that fit one datagram", () => {
  const cases: [number, number, number, number[]][] = [
    // channels, frame bytes, max datagram, groups
    [32, 40, 1400, [32]], // 32 × 42 + 28 = 1372
    [32, 40, 1150, [16, 16]], // 26 fit
    [32, 160, 1400, [8, 8, 8, 8]], // 20 ms frames: 8 fit
    [32, 160, 1150, [6, 6, 5, 5, 5, 5]], // 6 fit
    [20, 160, 1400, [7, 7, 6]],
    [1, 40, 1400, [1]],
    [33, 40, 1372 + 28, [17, 16]], // one over: two groups, not 32 + 1
  ];
  for (const [n, bytes, max, groups] of cases) {
    assert.deepEqual(opusChannelGroups(n, bytes, max), groups, `${n} ch × ${bytes} B in ${max}`);
  }
});

Deno.test("channel groups: a frame that cannot fit any datagram is a RangeError with both sizes", () => {
  assert.throws(
    () => opusChannelGroups(2, 1275, 1150),
    (e: unknown) =>
      e instanceof RangeError && /1275 bytes/.test(e.message) && /1150/.test(e.message),
  );
});

Deno.test("channel groups for every rate and packet time of the contract, at 1400 and 1150 bytes", () => {
  // The plan decides the bitrate, the packet time the frame: together the groups a client gets.
  const counts: Record<string, number> = {};
  for (const rate of [48000, 44100, 32000, 24000]) {
    for (const ptime of PTIMES_MS) {
      const plan = opusPlanFor(rate, 48000);
      const frameMs = opusFrameMsFor(ptime);
      const bytes = Math.round((plan.bitrate * frameMs) / 8000);
      for (const max of [1400, 1150]) {
        const groups = opusChannelGroups(32, bytes, max);
        assert.equal(groups.reduce((a, b) => a + b, 0), 32);
        assert(Math.max(...groups) - Math.min(...groups) <= 1, "balanced");
        const fit = Math.floor((max - MAX_HEADER_BYTES) / (bytes + 2));
        assert(groups[0] <= fit, "every group fits");
        assert(groups.length === 1 || Math.ceil(32 / (groups.length - 1)) > fit, "fewest groups");
        counts[`${rate}/${frameMs}/${max}`] = groups.length;
      }
    }
  }
  // A few rows people ask about: 5 ms at full rate is one packet; 20 ms needs four.
  assert.equal(counts["48000/5/1400"], 1);
  assert.equal(counts["48000/5/1150"], 2);
  assert.equal(counts["48000/20/1400"], 4);
  assert.equal(counts["24000/5/1150"], 1); // 25 B frames: 41 would fit
});

// ── layouts over a fake encoder ─────────────────────────────────────────────

Deno.test("32 channels at 64 kbit/s in 5 ms frames: one 1311-byte packet of 32 mono streams", () => {
  const { factory } = fakeFactory();
  const order = [3, 1, 2, ...ALL_32.slice(3)]; // the console's mapping order, not the ids' order
  const layout = new OpusLayouts(factory).create("k", TIER_5MS, order, 1400);
  layout.render(period(0, 240), 1);
  assert.equal(layout.packetCount, 1);
  const payload = layout.packetPayloads[0];
  // 31 self-delimited streams (40 B + 1 length byte) and the last one ordinary.
  assert.equal(payload.length, 31 * 41 + 40);
  assert(payload.length + MAX_HEADER_BYTES <= 1400);
  // No coupled streams: one stream per channel, in the client's channel order.
  const streams = splitMultistream(payload, 32);
  assert.deepEqual(streams.map((p) => p[1]), order);
  for (const [i, p] of streams.entries()) {
    assert.equal(p.length, 40);
    assert.deepEqual([...p.subarray(1, FAKE_HEADER_BYTES)], fakeHead(order[i], 0));
  }
});

Deno.test("a layout split into groups sends one packet per group, all with the frame's timestamp", () => {
  const { factory } = fakeFactory();
  const layout = new OpusLayouts(factory).create("k", TIER_5MS, ALL_32, 1150);
  assert.deepEqual(layout.channelGroups().map((g) => g.length), [16, 16]);
  layout.render(period(480, 240), 1);
  assert.equal(layout.packetCount, 2);
  assert.deepEqual(layout.packetRtpOffsets.slice(0, 2), [0, 0]);
  assert.equal(layout.blockRtpTime, 480);
  const [a, b] = layout.packetPayloads.slice(0, 2).map((p) => splitMultistream(p, 16));
  assert.deepEqual(a.map((p) => p[1]), ALL_32.slice(0, 16));
  assert.deepEqual(b.map((p) => p[1]), ALL_32.slice(16));
  for (const p of layout.packetPayloads.slice(0, 2)) assert(p.length + MAX_HEADER_BYTES <= 1150);
});

Deno.test("packets per period follow the frame: none, one or several frames complete per period", () => {
  // 1 ms periods (48 frames) into 2.5 ms frames (120): a frame completes every 2.5 periods.
  const { factory } = fakeFactory();
  const tier = { ...TIER_5MS, frameMs: 2.5 };
  const short = new OpusLayouts(factory).create("k", tier, [1, 2], 1400);
  const counts: number[] = [];
  const starts: number[] = [];
  for (let i = 0; i < 10; i++) {
    short.render(period(i * 48, 48, 2), i + 1);
    counts.push(short.packetCount);
    if (short.packetCount) starts.push(short.blockRtpTime);
  }
  assert.deepEqual(counts, [0, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
  assert.deepEqual(starts, [0, 120, 240, 360]);

  // 10 ms periods (480 frames) into 5 ms frames, split in two groups: 2 frames × 2 groups.
  const long = new OpusLayouts(fakeFactory().factory).create("k", TIER_5MS, ALL_32, 1150);
  long.render(period(960, 480), 1);
  assert.equal(long.packetCount, 4);
  assert.deepEqual(long.packetRtpOffsets.slice(0, 4), [0, 0, 240, 240]);
  const second = splitMultistream(long.packetPayloads[2], 16);
  assert.deepEqual([...second[0].subarray(1, FAKE_HEADER_BYTES)], fakeHead(1, 960 + 240));
  assert.equal(long.blockCaptureMs, 1e12 + 960 / 48);
});

Deno.test("a frame that straddles two periods is encoded whole, from both", () => {
  const { factory, encodes } = fakeFactory();
  const layout = new OpusLayouts(factory).create("k", TIER_5MS, [1], 1400);
  const heads: number[][] = [];
  for (let i = 0; i < 6; i++) {
    layout.render(period(i * 100, 100, 1), i + 1); // 100-frame periods, 240-frame Opus frames
    for (let k = 0; k < layout.packetCount; k++) {
      heads.push([...layout.packetPayloads[k].subarray(1, FAKE_HEADER_BYTES)]);
    }
  }
  assert.deepEqual(heads, [fakeHead(1, 0), fakeHead(1, 240)]);
  assert.equal(encodes(), 2);
});

Deno.test("no datagram of any layout exceeds its budget, for every channel count and tier", () => {
  const periods = new Map<number, Period>();
  for (const frameMs of [2.5, 5, 10, 20]) {
    const frames = 48 * frameMs;
    periods.set(frameMs, period(0, frames));
  }
  let checked = 0;
  for (const bitrate of [64000, 56000, 48000, 40000]) {
    for (const frameMs of [2.5, 5, 10, 20]) {
      for (const max of [1150, 1400]) {
        const layouts = new OpusLayouts(fakeFactory().factory);
        const tier = { bitrate, maxBandwidth: 1105, frameMs };
        const open = [];
        const p = periods.get(frameMs)!;
        for (let n = 1; n <= 32; n++) {
          // Kept open: the layouts share one bank's encoders, as clients' layouts do; each
          // joins between periods and renders the next one (the engine's order).
          const layout = layouts.create(`k${n}`, tier, ALL_32.slice(0, n), max);
          open.push(layout);
          p.frameIndex = n * p.frames;
          layout.render(p, n);
          assert.equal(layout.packetCount, layout.channelGroups().length);
          for (let k = 0; k < layout.packetCount; k++) {
            const bytes = layout.packetPayloads[k].length + MAX_HEADER_BYTES;
            assert(bytes <= max, `${n} ch, ${bitrate} b/s, ${frameMs} ms: ${bytes} > ${max}`);
            checked++;
          }
        }
        for (const layout of open) layout.close();
      }
    }
  }
  assert(checked > 1000);
});

Deno.test("each channel is encoded once per frame, however many layouts of a tier use it", () => {
  const { factory, made, encodes } = fakeFactory();
  const layouts = new OpusLayouts(factory);
  const a = layouts.create("a", TIER_5MS, [1, 2, 3], 1400);
  const b = layouts.create("b", TIER_5MS, [2, 3, 4], 1400);
  const other = layouts.create("c", { ...TIER_5MS, bitrate: 40000 }, [2], 1400);
  assert.equal(made.length, 5, "4 channels at 64 kbit/s, 1 at 40 kbit/s");
  for (let seq = 1; seq <= 3; seq++) {
    const p = period((seq - 1) * 240, 240, 4);
    for (const l of [a, b, other, a]) l.render(p, seq); // a twice: rendered once per seq
  }
  assert.equal(encodes(), 3 * 5);
  assert.deepEqual(made.map((e) => e.encodes), [3, 3, 3, 3, 3]);
});

Deno.test("encoders are made at 48 kHz, CBR, with the tier's bitrate, band and frame", () => {
  const { factory, made } = fakeFactory();
  new OpusLayouts(factory).create(
    "k",
    { bitrate: 48000, maxBandwidth: 1104, frameMs: 10 },
    [7],
    1400,
  );
  assert.deepEqual(made[0].options, {
    sampleRate: 48000,
    frameMs: 10,
    bitrate: 48000,
    maxBandwidth: 1104,
    rateControl: "cbr",
  });
});

Deno.test("closing the last layout of a tier frees its encoders; shared ones live on", () => {
  const { factory, made } = fakeFactory();
  const layouts = new OpusLayouts(factory);
  const a = layouts.create("a", TIER_5MS, [1, 2], 1400);
  const b = layouts.create("b", TIER_5MS, [2, 3], 1400);
  a.close();
  assert.deepEqual(made.map((e) => e.closed), [true, false, false]);
  b.close();
  assert.deepEqual(made.map((e) => e.closed), [true, true, true]);
  // The tier's bank is gone: a new layout makes fresh encoders.
  layouts.create("a", TIER_5MS, [1], 1400);
  assert.equal(made.length, 4);
});
