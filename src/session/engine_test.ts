import assert from "node:assert/strict";
import { StreamingEngine } from "./engine.ts";
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";
import { ManualClock } from "../util/clock.ts";
import { parseRtp } from "../rtp/packet.ts";
import type { Period } from "../audio/source.ts";

/** A sender that keeps copies of what it would have put on the wire. */
class RecordingSender implements PacketSender {
  readonly kind = "recording";
  readonly localPort = 5004;
  readonly maxDatagramBytes = 1400;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  readonly sent: { port: number; bytes: Uint8Array }[] = [];
  flushes = 0;
  private readonly buf = new Uint8Array(1400);
  destination(hostname: string, port: number): UdpDestination {
    return { hostname, port };
  }
  slot(): Uint8Array {
    return this.buf;
  }
  commit(length: number, dest: UdpDestination): void {
    this.sent.push({ port: dest.port, bytes: this.buf.slice(0, length) });
  }
  flush(): void {
    this.flushes++;
  }
  setDscp(): void {}
  close(): void {}
}

function idPeriod(frameIndex: number): Period {
  const data = new Int32Array(240 * 32);
  for (let i = 0; i < data.length; i++) data[i] = ((i % 32) + 1) << 8;
  return {
    data,
    frames: 240,
    channels: 32,
    sampleRate: 48000,
    frameIndex,
    captureTimeMs: 1e12 + frameIndex / 48,
  };
}

function engine() {
  const sender = new RecordingSender();
  const active: boolean[] = [];
  const e = new StreamingEngine({
    sender,
    clock: new ManualClock(),
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    onActiveChange: (a) => active.push(a),
  });
  return { e, sender, active };
}

const spec = (channels: number[]) =>
  ({ channels, sampleRate: 48000, compression: "none", encoding: "L24" }) as const;

Deno.test("clients with the same channel list share one encoded layout; others get their own", () => {
  const { e } = engine();
  const a = e.addClient({
    clientId: "a",
    hostname: "127.0.0.1",
    port: 7000,
    spec: spec([1, 2]),
    ssrc: 1,
    sequence: 0,
    timestampBase: 0,
  });
  const b = e.addClient({
    clientId: "b",
    hostname: "127.0.0.1",
    port: 7001,
    spec: spec([1, 2]),
    ssrc: 2,
    sequence: 0,
    timestampBase: 0,
  });
  const c = e.addClient({
    clientId: "c",
    hostname: "127.0.0.1",
    port: 7002,
    spec: spec([3]),
    ssrc: 3,
    sequence: 0,
    timestampBase: 0,
  });
  assert.equal(a.layout, b.layout);
  assert.notEqual(a.layout, c.layout);
  assert.equal(a.layout.refs, 2);
  e.removeClient("a");
  assert.equal(b.layout.refs, 1);
});

Deno.test("one period becomes each client's packets, then one flush", () => {
  const { e, sender } = engine();
  e.addClient({
    clientId: "a",
    hostname: "127.0.0.1",
    port: 7000,
    spec: spec([1, 2]),
    ssrc: 11,
    sequence: 100,
    timestampBase: 1000,
  });
  e.addClient({
    clientId: "b",
    hostname: "127.0.0.1",
    port: 7001,
    spec: spec([30]),
    ssrc: 22,
    sequence: 65535,
    timestampBase: 0,
  });
  e.onPeriod(idPeriod(480));
  e.onPeriod(idPeriod(720));
  assert.equal(sender.flushes, 2);
  const toA = sender.sent.filter((s) => s.port === 7000).map((s) => parseRtp(s.bytes));
  const toB = sender.sent.filter((s) => s.port === 7001).map((s) => parseRtp(s.bytes));
  // 2 ch × L24 × 240 frames = 1440 bytes: 228 frames (1368 bytes) then 12 per period
  assert.deepEqual(toA.map((p) => [p.ssrc, p.sequence, p.timestamp, p.marker]), [
    [11, 100, 1480, true],
    [11, 101, 1708, false],
    [11, 102, 1720, false],
    [11, 103, 1948, false],
  ]);
  assert.deepEqual(toB.map((p) => p.sequence), [65535, 0], "sequence wraps");
  assert.ok(toA[0].captureTimeMs > 0 && toA.slice(1).every((p) => p.captureTimeMs === -1));
  assert.equal(e.totalPackets, 6);
});

Deno.test("the engine reports becoming active with the first client and idle after the last", () => {
  const { e, active } = engine();
  e.addClient({
    clientId: "a",
    hostname: "127.0.0.1",
    port: 7000,
    spec: spec([1]),
    ssrc: 1,
    sequence: 0,
    timestampBase: 0,
  });
  e.addClient({
    clientId: "b",
    hostname: "127.0.0.1",
    port: 7001,
    spec: spec([1]),
    ssrc: 2,
    sequence: 0,
    timestampBase: 0,
  });
  e.removeClient("a");
  e.removeClient("b");
  assert.deepEqual(active, [true, false]);
  assert.equal(e.active, false);
});

Deno.test("a period sent to no client costs nothing and sends nothing", () => {
  const { e, sender } = engine();
  e.onPeriod(idPeriod(0));
  assert.equal(sender.sent.length, 0);
  assert.equal(sender.flushes, 0);
});

Deno.test("a client with a smaller datagram limit (WebTransport) gets its own layout, sized for it", () => {
  const { e, sender } = engine();
  const all = Array.from({ length: 32 }, (_, i) => i + 1);
  const base = { hostname: "127.0.0.1", ssrc: 1, sequence: 0, timestampBase: 0 };
  const udp = e.addClient({ ...base, clientId: "udp", port: 7000, spec: spec(all) });
  const wt = e.addClient({
    ...base,
    clientId: "wt",
    port: 7001,
    spec: { ...spec(all), maxDatagramBytes: 1150 },
  });
  assert.notEqual(udp.layout, wt.layout);
  e.onPeriod(idPeriod(0));
  const sizes = (port: number) =>
    sender.sent.filter((s) => s.port === port).map((s) => s.bytes.length);
  assert.ok(Math.max(...sizes(7000)) > 1150, "UDP packets use the engine's 1400 bytes");
  assert.ok(Math.max(...sizes(7001)) <= 1150, `WebTransport packets: ${sizes(7001)}`);
  // Removing the small-datagram client releases its layout only.
  e.removeClient("wt");
  const again = e.addClient({ ...base, clientId: "udp2", port: 7002, spec: spec(all) });
  assert.equal(again.layout, udp.layout, "the shared layout is still there");
});
