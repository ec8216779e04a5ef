import assert from "node:assert/strict";
import { StreamingEngine } from "./engine.ts";
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";
import { ManualClock } from "../util/clock.ts";
import { parseRtp } from "../rtp/packet.ts";
import type { Period } from "../audio/source.ts";

class RecordingSender implements PacketSender {
  readonly kind = "recording";
  readonly localPort = 5004;
  readonly maxDatagramBytes = 1400;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  readonly sent: { port: number; ts: number; at: number }[] = [];
  flushes = 0;
  private readonly buf = new Uint8Array(1400);
  constructor(private readonly clock: ManualClock) {}
  destination(hostname: string, port: number): UdpDestination {
    return { hostname, port };
  }
  slot(): Uint8Array {
    return this.buf;
  }
  commit(length: number, dest: UdpDestination): void {
    const ts = parseRtp(this.buf.subarray(0, length)).timestamp;
    this.sent.push({ port: dest.port, ts, at: this.clock.now() });
  }
  flush(): void {
    this.flushes++;
  }
  setDscp(): void {}
  close(): void {}
}

function period(n: number, t0: number): Period {
  return {
    data: new Int32Array(240 * 32),
    frames: 240,
    channels: 32,
    sampleRate: 48000,
    frameIndex: n * 240,
    captureTimeMs: t0 + n * 5,
  };
}

function setup() {
  const clock = new ManualClock(1_800_000_000_000);
  const sender = new RecordingSender(clock);
  const e = new StreamingEngine({
    sender,
    clock,
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    pace: true,
  });
  const add = (id: string, port: number, channels: number[]) =>
    e.addClient({
      clientId: id,
      hostname: "127.0.0.1",
      port,
      spec: { channels, sampleRate: 48000, compression: "none", encoding: "L24" },
      ssrc: port,
      sequence: 0,
      timestampBase: 0,
    });
  return { clock, sender, e, add };
}

Deno.test("paced: packet k of a split packet time leaves offset_k / rate after the first", () => {
  const { clock, sender, e, add } = setup();
  add("two", 7000, [1, 2]); // 120 + 120 frames
  add("one", 7002, [1]); // 240 frames: one packet, nothing held
  const t0 = clock.now();
  e.onPeriod(period(0, t0));
  assert.deepEqual(sender.sent.map((s) => [s.port, s.ts]), [[7000, 0], [7002, 0]]);
  assert.equal(e.nextDueMs, t0 + 2.5);
  clock.set(t0 + 2);
  e.runDue(clock.now()); // not due yet
  assert.equal(sender.sent.length, 2);
  clock.set(t0 + 2.5);
  e.runDue(clock.now());
  assert.deepEqual(sender.sent.at(-1), { port: 7000, ts: 120, at: t0 + 2.5 });
  assert.equal(e.nextDueMs, Infinity);
  assert.equal(e.totalPackets, 3);
});

Deno.test("paced: held packets a late timer missed leave before the next period's, in order", () => {
  const { clock, sender, e, add } = setup();
  add("two", 7000, [1, 2]);
  const t0 = clock.now();
  e.onPeriod(period(0, t0));
  clock.set(t0 + 5);
  e.onPeriod(period(1, t0)); // the timer never fired
  assert.deepEqual(sender.sent.map((s) => s.ts), [0, 120, 240]);
  assert.equal(e.nextDueMs, t0 + 7.5);
});

Deno.test("paced: a removed or gated client's held packets are dropped", () => {
  const { clock, sender, e, add } = setup();
  add("a", 7000, [1, 2]);
  const b = add("b", 7004, [1, 2]);
  const t0 = clock.now();
  e.onPeriod(period(0, t0));
  e.removeClient("a");
  b.gated = true;
  e.runDue(Infinity);
  assert.deepEqual(sender.sent.map((s) => [s.port, s.ts]), [[7000, 0], [7004, 0]]);
  assert.equal(e.nextDueMs, Infinity);
});

Deno.test("paced: a browser transport's packet time leaves whole, only RTP over UDP is paced", () => {
  const { clock, sender, e, add } = setup();
  const browser = new RecordingSender(clock);
  add("udp", 7000, [1, 2]); // 120 + 120 frames: paced
  e.addClient({
    clientId: "page",
    hostname: "127.0.0.1",
    port: 7100,
    spec: { channels: [1, 2], sampleRate: 48000, compression: "none", encoding: "L24" },
    ssrc: 7100,
    sequence: 0,
    timestampBase: 0,
    sender: browser,
  });
  const t0 = clock.now();
  e.onPeriod(period(0, t0));
  assert.deepEqual(browser.sent.map((s) => s.ts), [0, 120], "both halves at once");
  assert.deepEqual(sender.sent.map((s) => s.ts), [0], "the UDP client's second half is held");
  assert.equal(e.nextDueMs, t0 + 2.5);
  clock.advance(2.5);
  e.runDue(clock.now());
  assert.deepEqual(sender.sent.map((s) => s.ts), [0, 120]);
  assert.equal(browser.sent.length, 2, "nothing more for the page");
});
