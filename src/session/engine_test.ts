import assert from "node:assert/strict";
import type { RateConverter } from "../audio/rate_converter.ts";
import { StreamingEngine, type StreamSpec } from "./engine.ts";
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";
import type { StreamLayout } from "./layout.ts";
import type { Logger } from "../util/log.ts";
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
  // 2 ch × L24 × 240 frames = 1440 bytes: two packets of 120 frames per period (an even split)
  assert.deepEqual(toA.map((p) => [p.ssrc, p.sequence, p.timestamp, p.marker]), [
    [11, 100, 1480, true],
    [11, 101, 1600, false],
    [11, 102, 1720, false],
    [11, 103, 1840, false],
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

// ── Fault isolation: one client's failure never costs the others their packets ──

/** A client's own transport (a browser's) that throws where told to. */
class FaultySender extends RecordingSender {
  constructor(private readonly failOn: "commit" | "flush" | "none") {
    super();
  }
  override commit(length: number, dest: UdpDestination): void {
    if (this.failOn === "commit") throw new Error("transport gone (commit)");
    super.commit(length, dest);
  }
  override flush(): void {
    super.flush();
    if (this.failOn === "flush") throw new Error("transport gone (flush)");
  }
}

/** A logger that keeps its lines. */
function recordingLog() {
  const lines: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: (m) => lines.push(`INFO ${m}`),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
    child: () => log,
  };
  return { log, lines };
}

/** A stand-in resampler: every third frame (48000 → 16000 style decimation), labelled at `rate`. */
function decimatingConverter(rate: number): RateConverter {
  const out: Period = {
    data: new Int32Array(240 * 32),
    frames: 0,
    channels: 32,
    sampleRate: rate,
    frameIndex: 0,
    captureTimeMs: 0,
  };
  return {
    inputRate: 48000,
    outputRate: rate,
    process(p) {
      const step = p.sampleRate / rate;
      out.frames = Math.floor(p.frames / step);
      for (let f = 0; f < out.frames; f++) {
        out.data.set(p.data.subarray(f * step * 32, f * step * 32 + 32), f * 32);
      }
      out.frameIndex = p.frameIndex / step;
      out.captureTimeMs = p.captureTimeMs;
      return out;
    },
    close() {},
  };
}

const throwingConverter = (rate: number): RateConverter => ({
  inputRate: 48000,
  outputRate: rate,
  process() {
    throw new Error(`resampler to ${rate} Hz failed`);
  },
  close() {},
});

/** An Opus-style layout whose encoder throws. */
function throwingLayout(key: string): StreamLayout {
  return {
    key,
    payloadType: 97,
    inputRate: 48000,
    rtpClockRate: 48000,
    refs: 0,
    packetCount: 0,
    packetPayloads: [],
    packetRtpOffsets: [],
    blockRtpTime: 0,
    blockCaptureMs: 0,
    render() {
      throw new Error("opus encoder failed");
    },
  };
}

const OPUS_TIER = { bitrate: 64000, maxBandwidth: 1105, frameMs: 5 };

interface Faulty {
  id: string;
  port: number;
  spec: StreamSpec;
  sender?: PacketSender;
}

/**
 * Runs `periods` id periods through an engine with the healthy clients `good`
 * (and, when `faulty` is given, the failing ones beside them); returns what each
 * port received, the errors reported and the log.
 */
function runClients(good: Faulty[], faulty: Faulty[], periods: number) {
  const udp = new RecordingSender();
  const { log, lines } = recordingLog();
  const reported: string[] = [];
  const e = new StreamingEngine({
    sender: udp,
    clock: new ManualClock(),
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    log,
    onClientError: (id, err) => reported.push(`${id}: ${(err as Error).message}`),
    rateConverter: (_from, to) => to === 24000 ? throwingConverter(to) : decimatingConverter(to),
    opusLayout: (key) => throwingLayout(key),
  });
  // Failing clients first, so each healthy one comes after a failure in the period loop.
  for (const c of [...faulty, ...good]) {
    e.addClient({
      clientId: c.id,
      hostname: "127.0.0.1",
      port: c.port,
      spec: c.spec,
      sender: c.sender,
      ssrc: c.port,
      sequence: c.port & 0xffff,
      timestampBase: c.port * 1000,
    });
  }
  for (let k = 0; k < periods; k++) e.onPeriod(idPeriod(k * 240));
  const received = (c: Faulty) =>
    ((c.sender ?? udp) as RecordingSender).sent.filter((s) => s.port === c.port).map((s) =>
      Array.from(s.bytes).join(",")
    );
  /** Every healthy client's packets, in order (the comparison between runs). */
  const goodReceived = () => good.map((c) => received(c));
  return { e, udp, lines, reported, received, goodReceived };
}

/** The healthy clients received exactly what they receive when nobody fails. */
function assertUnaffected(run: ReturnType<typeof runClients>, periods: number): void {
  const control = runClients(GOOD(), [], periods);
  const want = control.goodReceived();
  const got = run.goodReceived();
  for (let i = 0; i < want.length; i++) assert.ok(want[i].length > 0);
  assert.deepEqual(got, want);
}

const GOOD: () => Faulty[] = () => [
  { id: "udp48", port: 7000, spec: spec([1, 2]) },
  { id: "udp32", port: 7001, spec: { ...spec([3]), sampleRate: 32000 } },
  { id: "own", port: 7002, spec: spec([4, 5, 6]), sender: new FaultySender("none") },
];

Deno.test("a client whose transport throws is reported once; the others get exactly their packets and every sender is flushed", () => {
  const good = GOOD();
  const commitFails = new FaultySender("commit");
  const flushFails = new FaultySender("flush");
  const run = runClients(good, [
    { id: "bad-commit", port: 7100, spec: spec([1, 2]), sender: commitFails },
    { id: "bad-flush", port: 7101, spec: spec([7]), sender: flushFails },
  ], 3);
  assertUnaffected(run, 3);
  assert.equal(run.udp.flushes, 3);
  assert.equal((good[2].sender as RecordingSender).flushes, 3);
  assert.equal(flushFails.flushes, 3, "a sender whose flush threw is still flushed every period");
  assert.deepEqual(run.reported, [
    "bad-commit: transport gone (commit)",
    "bad-flush: transport gone (flush)",
  ]);
  assert.equal(run.lines.filter((l) => l.startsWith("ERROR")).length, 2, run.lines.join("\n"));
  assert.equal(run.e.clientErrors, 6, "every failure is counted");
  run.e.removeClient("bad-commit");
  assert.ok(run.lines.some((l) => l.startsWith("WARN") && l.includes("errors")), "the count, once");
});

Deno.test("a throwing layout (encoder) affects only the clients on it", () => {
  const good = GOOD();
  const opus = { ...spec([1, 2]), compression: "opus", opus: OPUS_TIER } as const;
  const run = runClients(good, [
    { id: "opus-a", port: 7200, spec: opus },
    { id: "opus-b", port: 7201, spec: opus },
  ], 2);
  assertUnaffected(run, 2);
  assert.deepEqual(run.reported, ["opus-a: opus encoder failed", "opus-b: opus encoder failed"]);
  assert.equal(run.udp.sent.filter((s) => s.port >= 7200).length, 0, "no half-encoded packet");
});

Deno.test("a throwing rate converter affects only the clients at that rate", () => {
  const good = GOOD();
  const run = runClients(good, [
    { id: "r24", port: 7300, spec: { ...spec([1]), sampleRate: 24000 } },
  ], 2);
  assertUnaffected(run, 2);
  assert.deepEqual(run.reported, ["r24: resampler to 24000 Hz failed"]);
  assert.equal(run.udp.flushes, 2);
});
