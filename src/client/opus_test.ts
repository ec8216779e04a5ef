import assert from "node:assert/strict";
import { PT_OPUS, writeRtpHeader } from "../rtp/packet.ts";
import {
  emptyOpusCounters,
  groupCounts,
  OPUS_FULL_SCALE,
  type OpusDecoderFactory,
  type OpusFrame,
  OpusGroupAssembler,
} from "./opus.ts";
import type { DecodedPacket, PacketSink } from "./playout.ts";
import { RtpReceiver } from "./receiver.ts";
import { JitterBuffer } from "./jitter_buffer.ts";

/** What the scripted decoder conceals a lost packet with. */
const PLC = -0.5;

/**
 * A scripted multistream decoder (a test double): payload = [streams, v0, v1, …]; every frame of
 * stream j decodes to v_j / 256. It throws when the packet's stream count is
 * not its own (a packet given to the wrong group's decoder).
 */
function scriptedFactory(frames48k = 240, log: string[] = []): OpusDecoderFactory {
  return (channels, sampleRate) => {
    log.push(`open ${channels}@${sampleRate}`);
    const frames = (frames48k * sampleRate) / 48000;
    return {
      decode(payload, out, lostFrames) {
        if (payload === null) {
          out.fill(PLC, 0, lostFrames * channels);
          return lostFrames;
        }
        if (payload[0] !== channels) {
          throw new Error(`packet of ${payload[0]} streams, decoder of ${channels}`);
        }
        for (let f = 0; f < frames; f++) {
          for (let j = 0; j < channels; j++) out[f * channels + j] = payload[1 + j] / 256;
        }
        return frames;
      },
      close: () => log.push(`close ${channels}`),
    };
  };
}

/** The payload of one group: its stream count, then one value per stream. */
function payload(values: number[]): Uint8Array {
  return new Uint8Array([values.length, ...values]);
}

/** First frame of an emitted packet time, as floats. */
function firstFrame(f: { samples: Int32Array }, channels: number): number[] {
  return Array.from(f.samples.subarray(0, channels), (x) => x / OPUS_FULL_SCALE);
}

Deno.test("Opus groups of one timestamp assemble into one frame; a lost group is concealed and counted", () => {
  const out: { index: number; ts: number; frames: number; first: number[] }[] = [];
  const a = new OpusGroupAssembler(
    scriptedFactory(),
    [2, 1],
    48000,
    (f: OpusFrame) =>
      out.push({ index: f.index, ts: f.timestamp, frames: f.frames, first: firstFrame(f, 3) }),
  );
  const groups = [[[64, 128], [32]], [[16, 8], [4]], [[2, 1], [128]]];
  let ext = 1000;
  for (const [k, time] of groups.entries()) {
    for (const [g, vals] of time.entries()) {
      const seq = ext++;
      if (k === 1 && g === 1) continue; // lost
      a.push(seq, 5000 + 240 * k, seq === 1000, payload(vals), 10 + k);
    }
  }
  assert.deepEqual(out, [
    { index: 500, ts: 5000, frames: 240, first: [0.25, 0.5, 0.125] },
    // time 1 is handed on when time 2 starts; its missing group 1 is PLC
    { index: 501, ts: 5240, frames: 240, first: [1 / 16, 1 / 32, PLC] },
    { index: 502, ts: 5480, frames: 240, first: [2 / 256, 1 / 256, 0.5] },
  ]);
  // the missing group's late arrival is only counted
  a.push(1003, 5240, false, payload([9]), 20);
  assert.equal(out.length, 3);
  // a lost group 0: time 3 is still recognised from group 1 by sequence
  a.push(1007, 5720, false, payload([7]), 30);
  assert.equal(out.length, 3, "waiting for the next time");
  a.push(1008, 5960, false, payload([1, 2]), 31);
  // The late group at 20 came 8 ms after a newer time's first packet: the link reorders, so
  // time 4 is held (not decoded) for up to 8 + 1 ms while time 3's group 0 may still come.
  assert.equal(a.reorderWaitMs, 9);
  assert.equal(out.length, 3, "time 4 held for time 3");
  a.poll(39);
  assert.equal(out.length, 3);
  a.poll(40);
  assert.deepEqual(out[3], { index: 503, ts: 5720, frames: 240, first: [PLC, PLC, 7 / 256] });
  a.flush();
  assert.deepEqual(out[4].first, [1 / 256, 2 / 256, PLC]);
});

Deno.test("Opus assembly counts what it conceals, drops late groups and learns group 0 mid-stream", () => {
  const counters = emptyOpusCounters();
  const errors: string[] = [];
  const idx: number[] = [];
  const a = new OpusGroupAssembler(
    scriptedFactory(),
    [1, 1, 1],
    48000,
    (f) => idx.push(f.index),
    counters,
    (m) => errors.push(m),
  );
  // Joined mid-stream (no marker): groups 1 and 2 of time 0 cannot be placed yet.
  a.push(301, 0, false, payload([1]), 0);
  a.push(302, 0, false, payload([1]), 0);
  // 303 follows 302 with a new timestamp: group 0 (303 % 3 = 0).
  for (let s = 303; s < 309; s++) {
    a.push(s, 240 * Math.floor((s - 300) / 3), false, payload([1]), 0);
  }
  assert.deepEqual(idx, [101, 102]);
  assert.equal(counters.unassignedPackets, 2);
  assert.equal(counters.decodedPackets, 6);
  // A packet of the wrong size for its group is a decode error, the rest of its time is kept.
  a.push(309, 720, false, payload([1, 2]), 0);
  a.push(310, 720, false, payload([3]), 0);
  a.push(311, 720, false, payload([3]), 0);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /packet of 2 streams, decoder of 1/);
  assert.deepEqual(idx, [101, 102], "time 103 still waits for its group 0");
  a.push(312, 960, false, payload([4]), 0);
  assert.deepEqual(idx, [101, 102, 103]);
  assert.equal(counters.concealedGroups, 1);
  // Reordered: group 0 of 103 after 104 started → late.
  a.push(309, 720, false, payload([1]), 0);
  assert.equal(counters.lateGroups, 1);
});

Deno.test("groupCounts takes the ack's groups only when they list the channels in order", () => {
  assert.deepEqual(groupCounts([1, 2, 3], [[1, 2], [3]]), [2, 1]);
  assert.deepEqual(groupCounts([1, 2, 3], undefined), [3]);
  assert.deepEqual(groupCounts([1, 2, 3], [[1], [3, 2]]), [3]);
});

class CaptureSink implements PacketSink {
  concealedPackets = 0;
  droppedPackets = 0;
  got: { seq: number; ts: number; rate: number; ch: number; frames: number; first: number[] }[] =
    [];
  resets = 0;
  push(p: DecodedPacket): void {
    const first = Array.from(p.samples.subarray(0, p.channels), (x) => x / p.fullScale!);
    this.got.push({
      seq: p.sequence,
      ts: p.timestamp,
      rate: p.clockRate,
      ch: p.channels,
      frames: p.frames,
      first,
    });
  }
  reset(): void {
    this.resets++;
  }
}

function opusPacket(seq: number, ts: number, marker: boolean, body: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64);
  const h = writeRtpHeader(buf, marker, PT_OPUS, seq, ts, 7, -1, 0);
  buf.set(body, h);
  return buf.subarray(0, h + body.length);
}

Deno.test("receiver decodes Opus channel groups at 24 kHz through an injected decoder", () => {
  const sink = new CaptureSink();
  const log: string[] = [];
  const r = new RtpReceiver({
    sink,
    offsetMs: () => 0,
    nowMs: 0,
    opusDecoder: scriptedFactory(240, log),
  });
  r.setStream({
    ssrc: 7,
    payloadType: PT_OPUS,
    encoding: "opus",
    clockRate: 48000,
    sampleRate: 24000,
    channels: [2, 5, 9],
    channelGroups: [[2, 5], [9]],
  });
  assert.deepEqual(log, ["open 2@24000", "open 1@24000"]);
  const TS0 = 0xffff_ff00; // wraps during the run
  let seq = 65534;
  for (let k = 0; k < 4; k++) {
    const ts = (TS0 + 240 * k) >>> 0;
    const a = opusPacket(seq++ & 0xffff, ts, k === 0, payload([k * 10, k * 10 + 1]));
    const b = opusPacket(seq++ & 0xffff, ts, false, payload([k * 10 + 2]));
    r.receive(a, a.length, k * 5);
    if (k !== 2) r.receive(b, b.length, k * 5); // group 1 of time 2 lost
  }
  assert.deepEqual(sink.got.map((g) => [g.seq, g.rate, g.ch, g.frames]), [
    [32767, 24000, 3, 120],
    [32768, 24000, 3, 120],
    [32769, 24000, 3, 120],
    [32770, 24000, 3, 120],
  ]);
  // timestamps on the 24 kHz timeline, consecutive across the 2^32 wrap
  const ts = sink.got.map((g) => g.ts);
  for (let i = 1; i < ts.length; i++) assert.equal((ts[i] - ts[i - 1]) >>> 0, 120);
  assert.deepEqual(sink.got[2].first, [20 / 256, 21 / 256, PLC]);
  assert.deepEqual(sink.got[3].first, [30 / 256, 31 / 256, 32 / 256]);
  assert.equal(r.opus.decodedPackets, 7);
  assert.equal(r.opus.concealedGroups, 1);
  assert.equal(r.decodedPackets, 7);
  assert.deepEqual([r.decodeErrors, r.undecoded], [0, 0]);
  r.close();
  assert.deepEqual(log.slice(2), ["close 2", "close 1"]);
});

Deno.test("receiver without an Opus decoder counts Opus packets as undecoded", () => {
  const sink = new CaptureSink();
  const r = new RtpReceiver({ sink, offsetMs: () => 0, nowMs: 0 });
  r.setStream({
    ssrc: 7,
    payloadType: PT_OPUS,
    encoding: "opus",
    clockRate: 48000,
    channels: [1],
  });
  const p = opusPacket(1, 0, true, payload([1]));
  r.receive(p, p.length, 0);
  assert.deepEqual([r.undecoded, sink.got.length, sink.got[0].frames], [1, 1, 0]);
});

/** A one-group stream: packet time k carries value k % 200 + 1 in every channel. */
function oneGroup(counters = emptyOpusCounters()) {
  const out: { index: number; v: number; arrival: number }[] = [];
  const a = new OpusGroupAssembler(
    scriptedFactory(),
    [2],
    48000,
    (f) =>
      out.push({ index: f.index, v: Math.round(firstFrame(f, 1)[0] * 256), arrival: f.arrivalMs }),
    counters,
  );
  const push = (k: number, at: number) =>
    a.push(7000 + k, (1000 + 240 * k) >>> 0, k === 0, payload([k % 200 + 1, k % 200 + 1]), at);
  return { a, out, push, counters };
}

Deno.test("Opus: a packet time that overtook the one before it is held, and both are decoded in order", () => {
  // Wi-Fi reorders: every 10th packet time comes 3 ms after the next one (5 ms packets).
  const { a, out, push, counters } = oneGroup();
  const order: [number, number][] = [];
  for (let k = 0; k < 400; k++) {
    const at = 5 * k + (k % 10 === 4 ? 8 : 0);
    order.push([k, at]);
  }
  order.sort((x, y) => x[1] - y[1]);
  for (const [k, at] of order) push(k, at);
  a.poll(1e9);
  // The first overtaken packet teaches the wait (before this change: each of the 40 was dropped).
  assert.equal(counters.lateGroups, 1, "only the first reordered packet, which taught the wait");
  assert.equal(a.reorderWaitMs, 4);
  const idx = out.map((o) => o.index);
  assert.deepEqual(idx, [...idx].sort((x, y) => x - y), "decoded in order");
  assert.equal(out.length, 399);
  for (const o of out) {
    assert.equal(o.v, (o.index - 7000) % 200 + 1, `time ${o.index} decoded as itself`);
  }
  assert.ok(counters.heldGroups >= 39);
  // a held packet keeps its own arrival time (the jitter buffer measures the link, not the wait)
  const o5 = out.find((o) => o.index === 7005)!;
  assert.equal(o5.arrival, 25);
});

Deno.test("Opus: on a reordering link a lost packet time holds the next ones only for the wait", () => {
  const { a, out, push, counters } = oneGroup();
  push(0, 0);
  push(2, 5);
  push(1, 12); // 7 ms after 2: dropped, teaches an 8 ms wait
  assert.equal(counters.lateGroups, 1);
  assert.equal(a.reorderWaitMs, 8);
  push(3, 15);
  push(5, 25); // time 4 is lost: 5 is held…
  push(6, 30);
  assert.deepEqual(out.map((o) => o.index), [7000, 7002, 7003], "5 and 6 held for 4");
  push(7, 35); // …until 8 ms after 5 came (checked on each arrival)
  assert.deepEqual(out.map((o) => o.index), [7000, 7002, 7003, 7005, 7006, 7007]);
  assert.equal(counters.lateGroups, 1);
});

Deno.test("Opus: a link that never reordered holds nothing (a loss does not delay the next packet)", () => {
  const { out, push, counters } = oneGroup();
  push(0, 0);
  push(1, 5);
  push(3, 15); // 2 lost
  assert.deepEqual(out.map((o) => o.index), [7000, 7001, 7003]);
  assert.equal(counters.heldGroups, 0);
});

Deno.test("Opus: a full hold hands the held packet times on in order before taking a newer one", () => {
  const { a, out, push, counters } = oneGroup();
  a.deadline = () => 1e12; // the jitter buffer reads far later: only the hold's size limits it
  push(0, 0);
  for (let k = 2; k <= 17; k++) push(k, 5 * k); // 1 lost: 2…17 held (16)
  assert.deepEqual(out.map((o) => o.index), [7000]);
  push(18, 90); // no room: 1 is given up, 2…17 decoded in order, then 18
  assert.deepEqual(out.map((o) => o.index - 7000), [
    0,
    ...Array.from({ length: 17 }, (_, i) => i + 2),
  ]);
  assert.equal(counters.lateGroups, 0);
});

Deno.test("Opus: with the jitter buffer's read time, a held packet waits until the awaited one is read", () => {
  const { a, out, push } = oneGroup();
  const late: number[] = [];
  // frame t (48 kHz, from 1000) is read at (t − 1000) / 48 + 30 ms
  a.deadline = (ts) => (ts - 1000) / 48 + 30;
  a.onLate = (ts) => late.push(ts);
  push(0, 0);
  push(1, 5);
  push(3, 15); // 2 missing: its read time is 10 + 30 = 40 ms (−1 ms safety)
  push(4, 20);
  push(5, 38);
  assert.deepEqual(out.map((o) => o.index - 7000), [0, 1], "3…5 held");
  push(2, 38.5); // it came in time: all in order
  assert.deepEqual(out.map((o) => o.index - 7000), [0, 1, 2, 3, 4, 5]);
  push(7, 45); // 6 missing, read at 60
  a.poll(58.9);
  assert.equal(out.length, 6);
  a.poll(59);
  assert.deepEqual(out.map((o) => o.index - 7000), [0, 1, 2, 3, 4, 5, 7]);
  push(6, 61); // too late: dropped, its timing told to the sink
  assert.deepEqual(late, [1000 + 240 * 6]);
});

Deno.test("receiver: an Opus packet that overtook the one before it reaches a jitter buffer, in order", () => {
  // The real sink: the receiver gives the assembler the jitter buffer's read time.
  const jb = new JitterBuffer({ thresholds: { interpolate: 100, drop: 200 }, minDelayMs: 20 });
  const r = new RtpReceiver({
    sink: jb,
    offsetMs: () => 0,
    nowMs: 0,
    opusDecoder: scriptedFactory(),
  });
  r.setStream({ ssrc: 7, payloadType: PT_OPUS, encoding: "opus", clockRate: 48000, channels: [1] });
  // Packet k comes at 5(k + 1) ms, but 40 comes 4 ms after 41 (9 ms late: within the 20 ms delay).
  const arrivals = Array.from({ length: 80 }, (_, k) => ({ k, at: k === 40 ? 214 : 5 * (k + 1) }))
    .sort((x, y) => x.at - y.at);
  const out = new Float32Array(240);
  let i = 0;
  for (let t = 5; t <= 400; t += 5) {
    while (i < arrivals.length && arrivals[i].at <= t) {
      const { k, at } = arrivals[i++];
      const p = opusPacket(100 + k, 240 * k, k === 0, payload([k + 1]));
      r.receive(p, p.length, at);
    }
    jb.read(out, 240, t);
  }
  assert.equal(r.opus.lateGroups, 0, "nothing dropped for late (before: 40, after 41 was decoded)");
  assert.equal(r.opus.heldGroups, 1, "41 was held for 40");
  assert.equal(jb.concealedPackets, 0, "no gap");
});
