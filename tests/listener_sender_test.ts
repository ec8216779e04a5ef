/** The browser transports' PacketSender (src/listener/channel_sender.ts), with a fake channel. */
import assert from "node:assert/strict";
import {
  ChannelSender,
  DEFAULT_MAX_BUFFERED_BYTES,
  MAX_BACKLOG_MS,
  MAX_QUEUED_PACKETS,
  MIN_BUFFERED_BYTES,
  type PacketChannel,
  SLAB_BYTES,
} from "../src/listener/channel_sender.ts";
import { StreamingEngine } from "../src/session/engine.ts";
import { parseRtp } from "../src/rtp/packet.ts";
import type { Period } from "../src/audio/source.ts";

class FakeChannel implements PacketChannel {
  sent: Uint8Array[] = [];
  bufferedAmount = 0;
  open = true;
  send(bytes: Uint8Array): void {
    this.sent.push(bytes);
  }
}

function write(sender: ChannelSender, bytes: number[]): void {
  const slot = sender.slot();
  slot.set(bytes);
  sender.commit(bytes.length, sender.destination("", 0));
}

Deno.test("commit queues the slot's bytes and flush sends one message per packet", () => {
  const ch = new FakeChannel();
  const s = new ChannelSender("websocket", ch, 1400);
  write(s, [1, 2, 3]);
  write(s, [4, 5]); // reuses the slot: the first packet must not change
  assert.equal(ch.sent.length, 0, "nothing is sent before flush");
  s.flush();
  assert.deepEqual(ch.sent.map((b) => [...b]), [[1, 2, 3], [4, 5]]);
  assert.equal(s.stats.packets, 2);
  assert.equal(s.stats.bytes, 5);
  s.flush();
  assert.equal(ch.sent.length, 2, "a flush sends each packet once");
});

Deno.test("packets the channel still holds stay intact while later packets fill new slabs", () => {
  // A DataChannel keeps each message until its chunk is acknowledged: seconds of
  // a stream may be held while the engine goes on writing the next packets.
  const ch = new FakeChannel();
  const s = new ChannelSender("datachannel", ch, 1400, Number.MAX_SAFE_INTEGER);
  let written = 0;
  for (let period = 0; written < 4 * SLAB_BYTES; period++) {
    for (let i = 0; i < 7; i++) {
      const length = 1 + ((period * 7 + i) * 389) % 1400; // up to the whole slot
      const fill = (period * 7 + i) & 0xff;
      const slot = s.slot();
      assert.ok(slot.length >= length);
      slot.fill(fill, 0, length);
      slot.fill(0xee, length); // the engine may write past what it commits
      s.commit(length, s.destination("", 0));
      written += length;
    }
    s.flush(); // the channel keeps every packet it is given (ch.sent)
  }
  assert.ok(ch.sent.length > 200);
  for (const [k, p] of ch.sent.entries()) {
    assert.equal(p.length, 1 + (k * 389) % 1400, `packet ${k}'s length`);
    assert.ok(p.every((b) => b === (k & 0xff)), `packet ${k} was overwritten`);
  }
});

Deno.test("a backed-up channel drops packets and counts them instead of buffering", () => {
  const ch = new FakeChannel();
  const s = new ChannelSender("datachannel", ch, 1400, 1000);
  ch.bufferedAmount = 1001;
  write(s, [1]);
  write(s, [2]);
  s.flush();
  assert.equal(ch.sent.length, 0);
  assert.equal(s.stats.dropped, 2);
  ch.bufferedAmount = 0;
  write(s, [3]);
  s.flush();
  assert.deepEqual(ch.sent.map((b) => [...b]), [[3]]);
  assert.equal(s.stats.dropped, 2);
});

Deno.test("a channel may hold back a quarter second of its own stream, not seconds of a slow one", () => {
  // An Opus stream of 8 channels: one 600-byte packet every 5 ms (120 KB/s).
  const ch = new FakeChannel();
  let now = 0;
  const s = new ChannelSender("datachannel", ch, 1400, DEFAULT_MAX_BUFFERED_BYTES, () => now);
  const packet = Array(600).fill(7);
  const period = () => {
    write(s, packet);
    s.flush();
    now += 5;
  };
  for (let i = 0; i < 201; i++) period(); // a second: the rate is known
  const limit = s.backlogLimit;
  assert.equal(limit, Math.round((600 / 5) * MAX_BACKLOG_MS), "250 ms of 120 KB/s");
  assert.ok(limit < DEFAULT_MAX_BUFFERED_BYTES && limit >= MIN_BUFFERED_BYTES);
  // The channel falls a second behind (its SCTP holds 120 KB): packets are dropped, not queued.
  const sent = ch.sent.length;
  ch.bufferedAmount = 120_000;
  period();
  assert.equal(ch.sent.length, sent);
  assert.equal(s.stats.dropped, 1);
  // Back under the stream's quarter second: sent again.
  ch.bufferedAmount = limit - 1;
  period();
  assert.equal(ch.sent.length, sent + 1);
});

Deno.test("a trickle of a stream still gets a burst's worth of backlog", () => {
  const ch = new FakeChannel();
  let now = 0;
  const s = new ChannelSender("datachannel", ch, 1400, DEFAULT_MAX_BUFFERED_BYTES, () => now);
  for (let i = 0; i < 30; i++) {
    write(s, [1, 2, 3]);
    s.flush();
    now += 50;
  }
  assert.equal(s.backlogLimit, MIN_BUFFERED_BYTES);
});

Deno.test("a closed channel drops; a queue that is never flushed stays bounded", () => {
  const ch = new FakeChannel();
  const s = new ChannelSender("websocket", ch, 1400);
  for (let i = 0; i < MAX_QUEUED_PACKETS + 10; i++) write(s, [i & 0xff]);
  assert.equal(s.stats.dropped, 10);
  ch.open = false;
  s.flush();
  assert.equal(ch.sent.length, 0);
  assert.equal(s.stats.dropped, MAX_QUEUED_PACKETS + 10);
});

Deno.test("a send that throws is counted as an error, not thrown into the engine", () => {
  const ch = new FakeChannel();
  ch.send = () => {
    throw new Error("socket gone");
  };
  const s = new ChannelSender("websocket", ch, 1400);
  write(s, [1]);
  s.flush();
  assert.equal(s.stats.errors, 1);
  assert.equal(s.stats.lastError, "socket gone");
});

Deno.test("commit refuses a length beyond the slot, naming both sizes", () => {
  const s = new ChannelSender("websocket", new FakeChannel(), 100);
  assert.throws(() => s.commit(101, s.destination("", 0)), /101 bytes exceeds the 100-byte slot/);
});

Deno.test("the engine writes a client's RTP packets into its own channel sender, byte for byte", () => {
  const udp = new ChannelSender("udp-stand-in", new FakeChannel(), 1400);
  const ch = new FakeChannel();
  const own = new ChannelSender("websocket", ch, 1400);
  const engine = new StreamingEngine({
    sender: udp,
    clock: { now: () => 1_000_000 },
    extIntervalMs: 0,
    maxDatagramBytes: 1400,
  });
  engine.addClient({
    clientId: "c1",
    hostname: "10.0.0.5",
    port: 0,
    spec: { channels: [1, 2], sampleRate: 48000, compression: "none", encoding: "L24" },
    ssrc: 0x1234_5678,
    sequence: 7,
    timestampBase: 1000,
    sender: own,
  });
  const frames = 240;
  const samples = new Int32Array(frames * 32);
  for (let f = 0; f < frames; f++) for (let c = 0; c < 32; c++) samples[f * 32 + c] = (c + 1) << 8; // S32: L24 is the top 3 bytes
  const period: Period = {
    data: samples,
    frames,
    channels: 32,
    sampleRate: 48000,
    frameIndex: 0,
    captureTimeMs: 999_990,
  };
  engine.onPeriod(period);
  // 240 frames × 2 channels × 3 bytes = 1440 bytes: split in two datagrams ≤ 1400 bytes.
  assert.equal(ch.sent.length, 2);
  assert.ok(ch.sent.every((b) => b.length <= 1400));
  const p = parseRtp(ch.sent[0]);
  assert.equal(p.ssrc, 0x1234_5678);
  assert.equal(p.sequence, 7);
  assert.equal(p.payloadType, 96);
  assert.equal(p.captureTimeMs, 999_990);
  const q = parseRtp(ch.sent[1]);
  assert.equal(q.sequence, 8);
  assert.equal(p.payloadLength + q.payloadLength, frames * 2 * 3);
  assert.equal(q.timestamp - p.timestamp, p.payloadLength / 6, "timestamps count frames");
  const b = ch.sent[0].subarray(p.payloadOffset);
  assert.deepEqual([...b.subarray(0, 6)], [0, 0, 1, 0, 0, 2], "L24 big-endian, channels 1 and 2");
  assert.equal(udp.stats.packets, 0, "nothing went to the shared UDP sender");
});
