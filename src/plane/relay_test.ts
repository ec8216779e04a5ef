import assert from "node:assert/strict";
import { ChannelSender, type PacketChannel } from "../listener/channel_sender.ts";
import type { PacketSender } from "../net/sender.ts";
import { RELAY_BYTES, RELAY_SLOTS, RelayReader, RelaySender, RelayWriter } from "./relay.ts";

class FakeChannel implements PacketChannel {
  sent: number[][] = [];
  bufferedAmount = 0;
  open = true;
  send(bytes: Uint8Array): void {
    this.sent.push([...bytes]);
  }
}

function send(s: RelaySender, bytes: number[]): void {
  s.slot().set(bytes);
  s.commit(bytes.length, s.destination("", 0));
}

function setup() {
  const sab = new SharedArrayBuffer(RELAY_BYTES);
  const writer = new RelayWriter(sab);
  const a = new FakeChannel(), b = new FakeChannel();
  const senders = new Map<number, PacketSender>([
    [3, new ChannelSender("websocket", a, 1400)],
    [7, new ChannelSender("datachannel", b, 1400)],
  ]);
  const reader = new RelayReader(sab, senders);
  return { writer, reader, a, b, senders };
}

Deno.test("relayed datagrams reach their own client's sender byte for byte, once published", () => {
  const { writer, reader, a, b } = setup();
  const ra = new RelaySender(writer, 3, 1400), rb = new RelaySender(writer, 7, 1400);
  send(ra, [1, 2, 3]);
  send(rb, [9]);
  send(ra, [4, 5]);
  reader.drain();
  assert.equal(a.sent.length, 0, "nothing before the period is published");
  writer.publish();
  reader.drain();
  assert.deepEqual(a.sent, [[1, 2, 3], [4, 5]]);
  assert.deepEqual(b.sent, [[9]]);
  reader.drain();
  assert.equal(a.sent.length, 2, "each datagram is delivered once");
});

/** Counts what it is given (a ChannelSender would also cap its own queue between flushes). */
class CountingSender extends ChannelSender {
  committed: number[] = [];
  override commit(length: number): void {
    this.committed.push(this.slot()[0]);
    void length;
  }
}

Deno.test("a reader a whole ring behind loses the newest browser datagrams, counted, and the ring recovers", () => {
  const sab = new SharedArrayBuffer(RELAY_BYTES);
  const writer = new RelayWriter(sab);
  const counting = new CountingSender("websocket", new FakeChannel(), 1400);
  const reader = new RelayReader(sab, new Map([[3, counting]]));
  const a = {
    get sent() {
      return counting.committed.map((x) => [x]);
    },
  };
  const ra = new RelaySender(writer, 3, 1400);
  for (let i = 0; i < RELAY_SLOTS + 5; i++) send(ra, [i & 0xff]);
  writer.publish();
  assert.equal(reader.dropped, 5);
  assert.equal(ra.stats.errors, 5);
  reader.drain();
  assert.equal(a.sent.length, RELAY_SLOTS);
  assert.deepEqual(a.sent[0], [0]);
  send(ra, [42]);
  writer.publish();
  reader.drain();
  assert.deepEqual(a.sent.at(-1), [42]);
});

Deno.test("sequence numbers wrap around int32 without losing or repeating a datagram", () => {
  const { writer, reader, a } = setup();
  // Move both ends close to 2^31 as if the server had run for months.
  const w = writer as unknown as { write: number };
  w.write = 0x7fffffff - 2;
  const control = (reader as unknown as { ring: { control: Int32Array } }).ring.control;
  control[0] = w.write;
  control[1] = w.write;
  const ra = new RelaySender(writer, 3, 1400);
  for (let i = 0; i < 6; i++) send(ra, [i]);
  writer.publish();
  reader.drain();
  assert.deepEqual(a.sent, [[0], [1], [2], [3], [4], [5]]);
});

Deno.test("a datagram for a client removed meanwhile is skipped", () => {
  const { writer, reader, a, senders } = setup();
  send(new RelaySender(writer, 3, 1400), [1]);
  writer.publish();
  senders.delete(3);
  reader.drain();
  assert.equal(a.sent.length, 0);
});

/** A browser transport whose channel closed under it: every commit throws. */
class ThrowingSender extends ChannelSender {
  override commit(): void {
    throw new Error("DataChannel send on a closed channel");
  }
}

Deno.test("a browser sender that throws costs only its own client: the others get every datagram, the failure is reported once", () => {
  const sab = new SharedArrayBuffer(RELAY_BYTES);
  const writer = new RelayWriter(sab);
  const good = new FakeChannel();
  const senders = new Map<number, PacketSender>([
    [1, new ThrowingSender("datachannel", new FakeChannel(), 1400)],
    [2, new ChannelSender("websocket", good, 1400)],
  ]);
  const failures: [number, string][] = [];
  const reader = new RelayReader(
    sab,
    senders,
    (slot, e) => failures.push([slot, (e as Error).message]),
  );
  const bad = new RelaySender(writer, 1, 1400), ok = new RelaySender(writer, 2, 1400);
  for (let period = 0; period < 3; period++) {
    send(bad, [period]);
    send(ok, [period]);
    send(bad, [period, 1]);
    send(ok, [period, 1]);
    writer.publish();
    reader.drain(); // never throws
  }
  assert.deepEqual(good.sent, [[0], [0, 1], [1], [1, 1], [2], [2, 1]]);
  assert.deepEqual(failures, [[1, "DataChannel send on a closed channel"]]);
});
