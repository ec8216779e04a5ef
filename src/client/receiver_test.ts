import assert from "node:assert/strict";
import { NO_EXTENSION, PT_PCM, writeRtpHeader } from "../rtp/packet.ts";
import { encodePcmInto } from "./pcm.ts";
import { ThresholdPlayout } from "./playout.ts";
import { packetsPerSecond, RtpReceiver, type StreamParams } from "./receiver.ts";

const SSRC = 0x1234_5678;
const T0 = 1_700_000_000_000;
const STREAM: StreamParams = {
  ssrc: SSRC,
  payloadType: PT_PCM,
  encoding: "L24",
  clockRate: 48000,
  channels: [1, 5, 32],
};

/** One L24 packet with 4 frames of the test signal (channel id in every sample). */
function packet(seq: number, ts: number, captureMs = NO_EXTENSION, ssrc = SSRC): Uint8Array {
  const buf = new Uint8Array(200);
  const h = writeRtpHeader(buf, false, PT_PCM, seq, ts, ssrc, captureMs, 1);
  const n = encodePcmInto([1, 5, 32, 1, 5, 32, 1, 5, 32, 1, 5, 32], "L24", buf, h);
  return buf.subarray(0, h + n);
}

function receiver(offset = 0) {
  const sink = new ThresholdPlayout({ interpolate: 100, drop: 200 });
  const ext: number[] = [];
  const r = new RtpReceiver({
    sink,
    offsetMs: () => offset,
    onExtension: (e) => ext.push(e.latencyMs),
    nowMs: T0,
  });
  return { r, sink, ext };
}

Deno.test("receiver decodes test-signal packets into per-channel values and counts them", () => {
  const { r, sink, ext } = receiver();
  r.setStream(STREAM);
  for (let i = 0; i < 5; i++) {
    const p = packet(100 + i, 4 * i, i === 0 ? T0 : NO_EXTENSION);
    r.receive(p, p.length, T0 + 2 + i * (4 / 48));
  }
  assert.deepEqual(r.valuesById(), { "1": 1, "5": 5, "32": 32 });
  assert.deepEqual([r.seq.received, r.seq.expected, r.seq.lost], [5, 5, 0]);
  assert.equal(sink.playedPackets, 5);
  assert.deepEqual(ext.map(Math.round), [2]);
  assert.ok(Math.abs(r.latency.meanMs - 2) < 1e-6);
  assert.equal(r.bandwidth.totalBytes, 5 * (12 + 16 + 36) - 16 * 4);
  // The newest audio handed on ends 5 packets × 4 frames after the anchor's capture.
  assert.ok(Math.abs(r.newestCaptureEndMs - (T0 + (5 * 4 * 1000) / 48000)) < 1e-3);
});

Deno.test("receiver holds packets that overtake the ack and replays them in order", () => {
  const { r, ext } = receiver();
  const a = packet(7, 0, T0);
  r.receive(a, a.length, T0 + 3);
  const b = packet(8, 4);
  r.receive(b, b.length, T0 + 3);
  assert.equal(r.pendingPackets, 2);
  r.setStream(STREAM);
  assert.equal(r.pendingPackets, 0);
  assert.deepEqual([r.seq.received, r.seq.lost], [2, 0]);
  assert.deepEqual(ext, [3]); // latency from the held first packet's arrival time
});

Deno.test("receiver ignores other SSRCs, other payload types, duplicates and garbage", () => {
  const { r } = receiver();
  r.setStream(STREAM);
  const good = packet(1, 0);
  r.receive(good, good.length, T0);
  r.receive(good, good.length, T0); // duplicate
  const other = packet(2, 4, NO_EXTENSION, 99);
  r.receive(other, other.length, T0);
  const pt = packet(2, 4);
  pt[1] = 97;
  r.receive(pt, pt.length, T0);
  r.receive(new Uint8Array(5), 5, T0);
  const odd = packet(2, 4);
  r.receive(odd, odd.length - 1, T0); // not whole frames
  assert.deepEqual(
    [r.seq.received, r.seq.duplicates, r.foreignSsrc, r.wrongPayloadType, r.malformed],
    [2, 1, 1, 1, 1],
  );
  assert.equal(r.decodeErrors, 1);
  assert.match(r.lastError, /not whole 9-byte frames/);
});

Deno.test("receiver keeps totals over a new SSRC after a reconnect", () => {
  const { r } = receiver();
  r.setStream(STREAM);
  for (const s of [10, 11, 13]) {
    const p = packet(s, s * 4);
    r.receive(p, p.length, T0);
  }
  r.clearStream();
  r.setStream({ ...STREAM, ssrc: 42 });
  for (const s of [500, 501]) {
    const p = packet(s, s * 4, NO_EXTENSION, 42);
    r.receive(p, p.length, T0);
  }
  assert.deepEqual([r.seq.received, r.seq.expected, r.seq.lost, r.streams], [5, 6, 1, 2]);
});

Deno.test("after close, packets still arriving are held, not decoded or counted (undecoded Opus at the end of a run)", () => {
  const { r } = receiver();
  r.setStream(STREAM);
  const a = packet(1, 0);
  r.receive(a, a.length, T0);
  r.close();
  const b = packet(2, 4);
  r.receive(b, b.length, T0 + 1);
  assert.equal(r.seq.received, 1);
  assert.equal(r.undecoded, 0);
});

Deno.test("a stream's datagram rate sizes its reorder window: 32 channels of L24 are ~4000 a second", () => {
  const base = { ssrc: 1, payloadType: 96, clockRate: 48000, sampleRate: 48000, ptimeMs: 5 };
  const ch = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  assert.equal(packetsPerSecond({ ...base, encoding: "L24", channels: ch(32) }), 4000);
  assert.equal(packetsPerSecond({ ...base, encoding: "L16", channels: ch(1) }), 200);
  assert.equal(
    packetsPerSecond({
      ...base,
      encoding: "opus",
      channels: ch(32),
      channelGroups: [ch(16), ch(16)],
    }),
    400,
  );
});
