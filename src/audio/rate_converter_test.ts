import assert from "node:assert/strict";
import { ResamplingConverter } from "./rate_converter.ts";
import { TestSignalSource } from "./test_signal.ts";
import type { Period } from "./source.ts";
import { ManualClock } from "../util/clock.ts";
import { StreamingEngine } from "../session/engine.ts";
import { parseRtp } from "../rtp/packet.ts";

const CHANNELS = 32;
/** The converter rates a session can ask for below the native rate (contract §7). */
const CONVERSIONS: [number, number][] = [
  [48000, 24000],
  [48000, 32000],
  [48000, 44100],
  [44100, 24000],
  [44100, 32000],
];

/** Worst |wire value − id| over every sample of `p`, at `bits` (contract §6: ≤ 1 after resampling). */
function worstIdError(p: Period, bits: 16 | 24): { worst: number; at: string } {
  let worst = 0;
  let at = "";
  for (let f = 0; f < p.frames; f++) {
    for (let c = 0; c < p.channels; c++) {
      const err = Math.abs((p.data[f * p.channels + c] >> (32 - bits)) - (c + 1));
      if (err > worst) {
        worst = err;
        at = `output frame ${p.frameIndex + f}, channel ${c + 1}`;
      }
    }
  }
  return { worst, at };
}

function idSource(clock: ManualClock, sampleRate: number, bits: 16 | 24): TestSignalSource {
  return new TestSignalSource({
    mode: "id",
    sampleRate,
    framesPerPeriod: Math.round(sampleRate * 0.005),
    bits,
    channels: CHANNELS,
    clock,
    ticker: { start: () => {}, stop: () => {} },
  });
}

/** Moves the clock `periods` packet times ahead, one at a time, delivering each period. */
function run(src: TestSignalSource, clock: ManualClock, periods: number): void {
  for (let k = 0; k < periods; k++) {
    clock.advance(5);
    src.produceDue(clock.now());
  }
}

Deno.test("every resampled sample of the id signal is within ±1 from the very first one", () => {
  for (const [from, to] of CONVERSIONS) {
    for (const bits of [24, 16] as const) {
      const conv = new ResamplingConverter(from, to, 4096);
      const clock = new ManualClock();
      const src = idSource(clock, from, bits);
      let inFrames = 0;
      let outFrames = 0;
      let nextIndex = 0;
      src.start((p) => {
        inFrames += p.frames;
        const out = conv.process(p);
        if (!out) return;
        const { worst, at } = worstIdError(out, bits);
        assert(worst <= 1, `${from} → ${to} Hz, L${bits}: off by ${worst} at ${at}`);
        assert.equal(out.frameIndex, nextIndex, "output frames follow each other without a gap");
        nextIndex += out.frames;
        outFrames += out.frames;
      }, { onFault: () => {} });
      run(src, clock, 40);
      // No frame is lost or invented: everything in, minus the filter's bounded look-ahead.
      const exact = (inFrames * to) / from;
      assert(outFrames <= exact && outFrames > exact - to * 0.004, `${from} → ${to}: ${outFrames}`);
      src.stop();
      conv.close();
    }
  }
});

Deno.test("a gap in the source mid-stream (a stalled test signal resyncs) keeps every sample within ±1", () => {
  for (const [from, to] of CONVERSIONS) {
    const conv = new ResamplingConverter(from, to, 4096);
    const clock = new ManualClock();
    const src = idSource(clock, from, 24);
    // Only what comes after the stall is checked here (the test above covers the start).
    let afterStall = false;
    let checked = 0;
    src.start((p) => {
      const out = conv.process(p);
      if (!out || !afterStall) return;
      checked += out.frames;
      const { worst, at } = worstIdError(out, 24);
      assert(worst <= 1, `${from} → ${to} Hz after the stall: off by ${worst} at ${at}`);
    }, { onFault: () => {} });
    run(src, clock, 24);
    // The main thread stalls for 300 ms (20 sessions rejoining after a config change): the test
    // signal drops the backlog and goes on from the current period, a jump in its frame index.
    clock.advance(300);
    afterStall = true;
    src.produceDue(clock.now());
    assert(src.skippedPeriods > 0, "the stall made the source skip periods");
    run(src, clock, 24);
    assert(checked > 0);
    src.stop();
    conv.close();
  }
});

/** Every L24 sample of every packet a client at `port` received, checked against its channel ids. */
function assertIdPackets(
  sent: { port: number; bytes: Uint8Array }[],
  ids: number[],
  label: string,
) {
  let samples = 0;
  for (const { bytes } of sent) {
    const rtp = parseRtp(bytes);
    const payload = bytes.subarray(rtp.payloadOffset, rtp.payloadOffset + rtp.payloadLength);
    for (let i = 0; i + 3 <= payload.length; i += 3) {
      const v = (payload[i] << 24 | payload[i + 1] << 16 | payload[i + 2] << 8) >> 8;
      const id = ids[(i / 3) % ids.length];
      assert(Math.abs(v - id) <= 1, `${label}: sample ${samples} is ${v}, channel ${id}`);
      samples++;
    }
  }
  assert(samples > 0, label);
}

Deno.test("a source restarting under a live 24 kHz stream (capture restart, config change) keeps every sample within ±1", () => {
  const sent: { port: number; bytes: Uint8Array }[] = [];
  const buf = new Uint8Array(1400);
  const sender = {
    kind: "recording",
    localPort: 5004,
    maxDatagramBytes: 1400,
    stats: { packets: 0, bytes: 0, errors: 0, lastError: "" },
    destination: (hostname: string, port: number) => ({ hostname, port }),
    slot: () => buf,
    commit: (length: number, dest: { port: number }) =>
      sent.push({ port: dest.port, bytes: buf.slice(0, length) }),
    flush: () => {},
    setDscp: () => {},
    close: () => {},
  };
  const clock = new ManualClock();
  const engine = new StreamingEngine({
    sender,
    clock,
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    rateConverter: (from, to) => new ResamplingConverter(from, to, 4096),
  });
  const ids = [1, 16, 32];
  engine.addClient({
    clientId: "a",
    hostname: "127.0.0.1",
    port: 7000,
    spec: { channels: ids, sampleRate: 24000, compression: "none", encoding: "L24" },
    ssrc: 1,
    sequence: 0,
    timestampBase: 0,
  });
  const first = idSource(clock, 48000, 24);
  first.start(engine.onPeriod, { onFault: () => {} });
  run(first, clock, 30);
  first.stop();
  // The capture restarts (a new source: its frame index starts at 0 again) while the client
  // keeps its rate stream and converter.
  sent.length = 0;
  const second = idSource(clock, 48000, 24);
  second.start(engine.onPeriod, { onFault: () => {} });
  run(second, clock, 30);
  assertIdPackets(sent, ids, "after the restart");
  // A restarted source at another native rate gets a converter for that rate.
  sent.length = 0;
  second.stop();
  const third = idSource(clock, 44100, 24);
  let inFrames = 0;
  third.start((p) => {
    inFrames += p.frames;
    engine.onPeriod(p);
  }, { onFault: () => {} });
  run(third, clock, 30);
  assertIdPackets(sent, ids, "after a restart at 44100 Hz");
  const outFrames = sent.reduce((n, s) => n + parseRtp(s.bytes).payloadLength / 9, 0);
  const exact = (inFrames * 24000) / 44100;
  // Everything in at 44.1 kHz comes out at 24 kHz, less the filter's look-ahead (< 2 ms).
  assert(outFrames <= exact && outFrames > exact - 48, `${outFrames} of ${exact} frames`);
  third.stop();
  engine.removeClient("a");
});

/** `periods` periods of 240 frames (5 ms at 48 kHz), a different sine on each of 32 channels. */
function sinePeriods(periods: number, frames = 240): Period[] {
  return Array.from({ length: periods }, (_, k) => {
    const data = new Int32Array(frames * CHANNELS);
    for (let f = 0; f < frames; f++) {
      const t = (k * frames + f) / 48000;
      for (let c = 0; c < CHANNELS; c++) {
        data[f * CHANNELS + c] = Math.round(Math.sin(2 * Math.PI * (110 + 173 * c) * t) * 2 ** 30);
      }
    }
    return {
      data,
      frames,
      channels: CHANNELS,
      sampleRate: 48000,
      frameIndex: k * frames,
      captureTimeMs: 1_000_000 + k * 5,
    };
  });
}

/** Largest difference a float32 rounding can make in a left-justified sample (−120 dBFS). */
const FLOAT_SLACK = 2 ** 11;

Deno.test("a converter for a few channels converts only those, like one over every channel", () => {
  for (const [, to] of CONVERSIONS.filter(([from]) => from === 48000)) {
    const full = new ResamplingConverter(48000, to, 4096);
    const part = new ResamplingConverter(48000, to, 4096);
    part.setChannels([7, 3, 3]);
    let frames = 0;
    for (const p of sinePeriods(40)) {
      const a = full.process(p);
      const b = part.process(p);
      assert.equal(b?.frames, a?.frames, `${to} Hz: the same frames come out`);
      if (!a || !b) continue;
      assert.equal(b.frameIndex, a.frameIndex);
      assert.equal(b.captureTimeMs, a.captureTimeMs);
      for (let f = 0; f < a.frames; f++) {
        for (let c = 0; c < CHANNELS; c++) {
          const got: number = b.data[f * CHANNELS + c];
          if (c === 2 || c === 6) {
            const want: number = a.data[f * CHANNELS + c];
            assert(Math.abs(got - want) <= FLOAT_SLACK, `${to} Hz ch ${c + 1}: ${got} ≠ ${want}`);
          } else {
            assert.equal(got, 0, `${to} Hz: channel ${c + 1} is not converted`);
          }
        }
      }
      frames += a.frames;
    }
    assert(frames > 0);
    full.close();
    part.close();
  }
});

Deno.test("phones joining and leaving a rate change its channels without restarting the others", () => {
  // The set changes after 40, 80 and 120 periods; a period of 237 frames makes the change land
  // at a filter phase that is not a whole 48000 → 44100 step (160 in, 147 out).
  const changes = new Map<number, number[]>([[0, [3]], [40, [3, 9]], [80, [9]], [120, [9, 12]]]);
  for (const [, to] of CONVERSIONS.filter(([from]) => from === 48000)) {
    const full = new ResamplingConverter(48000, to, 4096);
    const part = new ResamplingConverter(48000, to, 4096);
    let wanted: number[] = [];
    let nextIndex = -1;
    for (const [k, p] of sinePeriods(160, 237).entries()) {
      const change = changes.get(k);
      if (change) {
        part.setChannels(change);
        wanted = change;
      }
      const a = full.process(p);
      const b = part.process(p);
      const label = `${to} Hz, period ${k}, channels ${wanted}`;
      assert.equal(b?.frames, a?.frames, `${label}: the same frames come out`);
      if (!a || !b) continue;
      assert.equal(b.frameIndex, a.frameIndex, `${label}: no gap, no repeat`);
      if (nextIndex >= 0) assert.equal(b.frameIndex, nextIndex, label);
      nextIndex = b.frameIndex + b.frames;
      for (let f = 0; f < a.frames; f++) {
        for (const id of wanted) {
          const got: number = b.data[f * CHANNELS + id - 1];
          const want: number = a.data[f * CHANNELS + id - 1];
          assert(Math.abs(got - want) <= FLOAT_SLACK, `${label}: ch ${id} ${got} ≠ ${want}`);
        }
      }
      for (let c = 0; c < CHANNELS; c++) {
        if (!wanted.includes(c + 1)) assert.equal(b.data[c], 0, `${label}: ch ${c + 1} silent`);
      }
    }
    full.close();
    part.close();
  }
});

Deno.test("the engine converts a rate's channels that its clients receive, and no others", () => {
  const told: number[][] = [];
  const engine = new StreamingEngine({
    sender: {
      kind: "recording",
      localPort: 5004,
      maxDatagramBytes: 1400,
      stats: { packets: 0, bytes: 0, errors: 0, lastError: "" },
      destination: (hostname: string, port: number) => ({ hostname, port }),
      slot: () => new Uint8Array(1400),
      commit: () => {},
      flush: () => {},
      setDscp: () => {},
      close: () => {},
    },
    clock: new ManualClock(),
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    rateConverter: (from, to) => {
      const c = new ResamplingConverter(from, to, 4096);
      const set = c.setChannels.bind(c);
      c.setChannels = (ids) => {
        told.push([...ids].sort((x, y) => x - y));
        set(ids);
      };
      return c;
    },
  });
  const add = (clientId: string, channels: number[]) =>
    engine.addClient({
      clientId,
      hostname: "127.0.0.1",
      port: 7000,
      spec: { channels, sampleRate: 44100, compression: "none", encoding: "L24" },
      ssrc: 1,
      sequence: 0,
      timestampBase: 0,
    });
  const periods = sinePeriods(4);
  add("a", [1, 2]);
  engine.onPeriod(periods[0]);
  add("b", [2, 5]);
  engine.onPeriod(periods[1]);
  add("c", [5]);
  engine.onPeriod(periods[2]);
  engine.removeClient("a");
  engine.onPeriod(periods[3]);
  assert.deepEqual(told, [[1, 2], [1, 2, 5], [2, 5]]);
  engine.removeClient("b");
  engine.removeClient("c");
});
