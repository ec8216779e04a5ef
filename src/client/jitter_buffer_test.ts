import assert from "node:assert/strict";
import { JitterBuffer, type JitterBufferOptions, LATE_RESYNC_MS } from "./jitter_buffer.ts";
import type { DecodedPacket } from "./playout.ts";
import { GAP_CONCEALED } from "./gap_log.ts";

const RATE = 48000;
const FRAMES = 240; // 5 ms packets
const READ_FRAMES = 480; // the consumer takes 10 ms blocks
const T0 = 1_000_000;

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Trace {
  packets: number;
  /** Arrival time (ms after T0) of packet i, or null when it is lost. */
  arrival: (i: number) => number | null;
  opts?: Partial<JitterBufferOptions>;
  /** Receiver ms per consumer block (default 10). */
  readEveryMs?: number;
  initialTs?: number;
  /** The consumer's own timing noise: each read happens up to this many ms late (uniform). */
  readLateMs?: number;
  /** Media position (frames) of packet i, default i · FRAMES; its samples ramp from there. */
  frameOf?: (i: number) => number;
}

interface Run {
  jb: JitterBuffer;
  out: Float32Array;
  /** bufferedMs and delayMs seen at each read. */
  buffered: number[];
  delays: number[];
  reorders: number;
}

/**
 * Plays a synthetic trace: a mono ramp (sample value = frame index, full scale
 * 1) in 5 ms packets, arriving as `arrival` says, read in 10 ms blocks on the
 * receiver's clock.
 */
function simulate(t: Trace): Run {
  const jb = new JitterBuffer({ thresholds: { interpolate: 100, drop: 200 }, ...t.opts });
  const events: { at: number; i: number }[] = [];
  for (let i = 0; i < t.packets; i++) {
    const a = t.arrival(i);
    if (a !== null) events.push({ at: a, i });
  }
  events.sort((x, y) => x.at - y.at || x.i - y.i);
  let reorders = 0;
  for (let k = 1; k < events.length; k++) if (events[k].i < events[k - 1].i) reorders++;
  const end = events[events.length - 1].at;
  const every = t.readEveryMs ?? 10;
  const block = Math.round((every * RATE) / 1000);
  const reads = Math.floor(end / every);
  const out = new Float32Array(reads * block);
  const samples = new Int32Array(FRAMES);
  const buffered: number[] = [];
  const delays: number[] = [];
  let e = 0;
  const noise = rng(7);
  for (let r = 0; r < reads; r++) {
    const now = (r + 1) * every;
    while (e < events.length && events[e].at <= now) {
      const i = events[e++].i;
      const at = t.frameOf ? t.frameOf(i) : i * FRAMES;
      for (let f = 0; f < FRAMES; f++) samples[f] = at + f;
      const p: DecodedPacket = {
        sequence: 1000 + i,
        timestamp: ((t.initialTs ?? 0) + at) >>> 0,
        clockRate: RATE,
        arrivalMs: T0 + events[e - 1].at,
        channels: 1,
        frames: FRAMES,
        samples,
        fullScale: 1,
      };
      jb.push(p);
    }
    const late = t.readLateMs ? noise() * t.readLateMs : 0;
    jb.read(out.subarray(r * block, (r + 1) * block), block, T0 + now + late);
    buffered.push(jb.bufferedMs);
    delays.push(jb.delayMs);
  }
  return { jb, out, buffered, delays, reorders };
}

/** Frames from `from` on where the output is not the next ramp value (±tol). */
function breaks(out: Float32Array, from: number, tol = 1e-3): number {
  let n = 0;
  for (let k = from + 1; k < out.length; k++) {
    if (Math.abs(out[k] - out[k - 1] - 1) > tol) n++;
  }
  return n;
}

const WARMUP = READ_FRAMES * 100; // 1 s of output

Deno.test("jitter buffer on a clean link keeps its delay at the minimum and plays every frame in order", () => {
  const noise = rng(1);
  const r = simulate({ packets: 2000, arrival: (i) => 20 + i * 5 + noise() * 0.3 });
  assert.equal(r.jb.concealedPackets, 0);
  assert.equal(r.jb.droppedPackets, 0);
  assert.ok(Math.max(...r.delays.slice(100)) <= 7, `delay ${Math.max(...r.delays)} ms`);
  assert.ok(Math.max(...r.buffered.slice(100)) <= 12, `buffered ${Math.max(...r.buffered)} ms`);
  assert.equal(breaks(r.out, WARMUP), 0);
  assert.ok(r.out[r.out.length - 1] > 1900 * FRAMES, "output reaches the last packets");
});

Deno.test("jitter buffer plays reordered packets in order when the jitter is within its delay", () => {
  const noise = rng(2);
  const r = simulate({ packets: 3000, arrival: (i) => 20 + i * 5 + noise() * 8 });
  assert.ok(r.reorders > 50, `trace has ${r.reorders} reorderings`);
  const d = r.delays[r.delays.length - 1];
  assert.ok(d >= 8 && d <= 12, `delay ${d} ms for 0–8 ms jitter`);
  // After the first second every frame is the ramp: nothing late, nothing concealed.
  assert.equal(breaks(r.out, WARMUP), 0);
  assert.ok(r.jb.droppedPackets <= 3, `dropped ${r.jb.droppedPackets} (warm-up only)`);
});

Deno.test("jitter buffer conceals a burst of lost packets and counts each one", () => {
  const lost = new Set([400, 401, 402, 900, 901, 902, 903, 904, 1500]);
  const r = simulate({ packets: 2000, arrival: (i) => (lost.has(i) ? null : 20 + i * 5) });
  assert.equal(r.jb.concealedPackets, lost.size);
  assert.equal(r.jb.droppedPackets, 0);
  // The next packet is not there yet while a gap starts (5 ms delay): the gap
  // fades, then ramps into the next packet; only gap frames differ from the ramp.
  const b = breaks(r.out, WARMUP);
  assert.ok(b > 0 && b <= lost.size * FRAMES, `${b} frames off the ramp`);
});

Deno.test("jitter buffer logs each concealed stretch at the time its first packet would have come", () => {
  const lost = new Set([400, 401, 402, 900, 901, 902, 903, 904, 1500]);
  const r = simulate({
    packets: 2000,
    // packet 1200 comes 300 ms late: its slot is concealed, then a resync-free drop
    arrival: (i) => (lost.has(i) ? null : 20 + i * 5 + (i === 1200 ? 300 : 0)),
  });
  const ev: number[] = [];
  r.jb.events.drainInto(ev);
  const rows: [number, number, number][] = [];
  for (let k = 0; k < ev.length; k += 3) rows.push([ev[k] - T0, ev[k + 1], ev[k + 2]]);
  // Fastest transit 20 ms: packet i would have come at 20 + 5 i.
  assert.deepEqual(rows, [
    [20 + 400 * 5, 3, GAP_CONCEALED],
    [20 + 900 * 5, 5, GAP_CONCEALED],
    [20 + 1200 * 5, 1, GAP_CONCEALED],
    [20 + 1500 * 5, 1, GAP_CONCEALED],
  ]);
  assert.equal(r.jb.events.size, 0, "drained");
});

Deno.test("jitter buffer interpolates a gap exactly when the next packet is already buffered", () => {
  const lost = new Set([400, 401, 402, 900, 1500]);
  const r = simulate({
    packets: 2000,
    arrival: (i) => (lost.has(i) ? null : 20 + i * 5),
    opts: { minDelayMs: 25 },
  });
  assert.equal(r.jb.concealedPackets, lost.size);
  // Linear interpolation of a ramp is the ramp: no break at all.
  assert.equal(breaks(r.out, WARMUP), 0);
});

Deno.test("jitter buffer drops a packet that arrives after its frames were played, without growing", () => {
  const r = simulate({
    packets: 2000,
    arrival: (i) => 20 + i * 5 + (i === 700 ? 300 : 0),
  });
  assert.equal(r.jb.latePackets, 1);
  assert.equal(r.jb.droppedPackets, 1);
  assert.equal(r.jb.concealedPackets, 1); // its slot was interpolated
  assert.equal(r.jb.resyncs, 0);
  assert.ok(Math.max(...r.delays.slice(100)) <= 7, "one wild packet does not move the delay");
});

for (const [name, ppm] of [["faster", 1000], ["slower", -1000]] as const) {
  Deno.test(`jitter buffer follows a sender clock 0.1 % ${name} than the receiver's`, () => {
    const ratio = 1 + ppm / 1e6;
    const noise = rng(3);
    const r = simulate({
      packets: 12000, // 60 s
      arrival: (i) => 20 + (i * 5) / ratio + noise() * 0.5,
    });
    const frames = 12000 * FRAMES;
    const corrected = ppm > 0 ? r.jb.skippedFrames : r.jb.repeatedFrames;
    assert.ok(
      corrected > frames * 0.0005 && corrected < frames * 0.002,
      `${corrected} frames corrected of ${frames}`,
    );
    assert.ok(r.jb.concealedPackets + r.jb.droppedPackets <= 2, JSON.stringify(r.jb));
    assert.ok(Math.max(...r.buffered.slice(100)) <= 15, `buffered ${Math.max(...r.buffered)} ms`);
    assert.equal(r.jb.resyncs, 0);
  });
}

Deno.test("jitter buffer grows with jitter but never past its bound", () => {
  const a = rng(4);
  const mid = simulate({ packets: 3000, arrival: (i) => 20 + i * 5 + a() * 30 });
  const d = mid.delays[mid.delays.length - 1];
  assert.ok(d >= 28 && d <= 36, `delay ${d} ms for 0–30 ms jitter`);
  assert.ok(mid.jb.droppedPackets < 30, `dropped ${mid.jb.droppedPackets} of 3000`);
  const b = rng(5);
  const wild = simulate({ packets: 3000, arrival: (i) => 20 + i * 5 + b() * 400 });
  assert.equal(Math.max(...wild.delays), 100); // the interpolate threshold bounds it
  assert.ok(Math.max(...wild.buffered) <= 400 + 10);
});

Deno.test("jitter buffer leaves gaps silent and counts them dropped once jitter passes the drop threshold", () => {
  const a = rng(6);
  const r = simulate({
    packets: 2000,
    arrival: (i) => 20 + i * 5 + a() * 40,
    opts: { thresholds: { interpolate: 10, drop: 20 }, maxDelayMs: 15 },
  });
  assert.equal(r.jb.gapModeNow, "silence");
  assert.ok(r.jb.droppedPackets > 100, `dropped ${r.jb.droppedPackets}`);
  assert.ok(r.jb.concealedPackets < r.jb.droppedPackets / 5, JSON.stringify(r.jb));
  const zeros = r.out.subarray(WARMUP).filter((v) => v === 0).length;
  assert.ok(zeros > 1000, `${zeros} silent frames`);
});

Deno.test("jitter buffer fades a gap out while jitter is between the thresholds", () => {
  const jb = new JitterBuffer({ thresholds: { interpolate: 1, drop: 500 }, minDelayMs: 5 });
  const samples = new Int32Array(FRAMES).fill(1000);
  // Lateness alternating 0 and 20 ms puts the jitter estimate between 1 and 500.
  for (let i = 0; i < 200; i++) {
    jb.push({
      sequence: i,
      timestamp: i * FRAMES,
      clockRate: RATE,
      arrivalMs: T0 + i * 5 + (i % 2) * 20,
      channels: 1,
      frames: FRAMES,
      samples,
      fullScale: 1000,
    });
  }
  assert.equal(jb.gapModeNow, "fade");
  const out = new Float32Array(48000);
  // One second of output: the last half second of packets, then half a second of gap.
  jb.read(out, 48000, T0 + 1500 + jb.delayMs);
  assert.equal(out[0], 1);
  assert.equal(out[23999], 1);
  const tail = out[out.length - 1];
  assert.ok(tail > 0 && tail < 1e-3, `faded to ${tail}`);
  assert.equal(jb.concealedFrames, 24000);
});

Deno.test("jitter buffer unwraps RTP timestamps across 2^32 and restarts on reset", () => {
  const r = simulate({
    packets: 1000,
    arrival: (i) => 20 + i * 5,
    initialTs: 0xffff_ff00 - 240 * 300,
  });
  assert.equal(r.jb.concealedPackets + r.jb.droppedPackets, 0);
  assert.equal(breaks(r.out, WARMUP / 2), 0);
  r.jb.reset();
  assert.equal(r.jb.heldPackets, 0);
});

Deno.test("jitter buffer without samples still times and counts", () => {
  const lost = new Set([300, 301]);
  const r = simulate({
    packets: 1000,
    arrival: (i) => (lost.has(i) ? null : 20 + i * 5),
    opts: { storeSamples: false },
  });
  assert.equal(r.jb.concealedPackets, 2);
  assert.ok(r.out.every((v) => v === 0));
});

Deno.test("jitter buffer ignores the consumer's own timing noise instead of skipping and repeating", () => {
  // A browser's audio callback runs up to 4 ms late, at random: the media clock did not change.
  const run = simulate({ packets: 2000, arrival: (i) => i * 5 + 0.2, readLateMs: 4 });
  const played = run.out.length;
  const steered = run.jb.skippedFrames + run.jb.repeatedFrames;
  assert.ok(steered < played * 0.002, `${steered} frames skipped/repeated of ${played}`);
  assert.ok(breaks(run.out, WARMUP) < 20, `${breaks(run.out, WARMUP)} discontinuities`);
});

/**
 * A stream whose source was reopened: packets 0–999, nothing for `wallGapMs`,
 * then packets 1000–1999 whose timestamps jumped forward by `tsJumpMs` (the
 * sequence numbers go on by one: the server sent nothing in between).
 */
function reopened(wallGapMs: number, tsJumpMs: number): Run {
  const jump = (tsJumpMs * RATE) / 1000;
  return simulate({
    packets: 2000,
    arrival: (i) => 20 + i * 5 + (i >= 1000 ? wallGapMs : 0),
    frameOf: (i) => i * FRAMES + (i >= 1000 ? jump : 0),
  });
}

/** Output frames after the first frame of packet 1000 that are off the ramp. */
function breaksAfterReopen(r: Run, wallGapMs: number, settleMs: number): number {
  const firstAt = ((20 + 1000 * 5 + wallGapMs + settleMs) * RATE) / 1000;
  return breaks(r.out, Math.round(firstAt));
}

for (const gapMs of [1000, 2000, 3000]) {
  Deno.test(`jitter buffer plays on at once after a ${gapMs} ms forward timestamp jump matching the silence`, () => {
    const r = reopened(gapMs, gapMs);
    assert.equal(r.jb.latePackets, 0, "nothing after the jump is taken for late");
    assert.equal(r.jb.droppedPackets, 0);
    assert.equal(r.jb.resyncs, 0, "the media clock did not change");
    assert.equal(breaksAfterReopen(r, gapMs, 20), 0, "the new packets play in order within 20 ms");
    assert.ok(r.out[r.out.length - 1] > 1990 * FRAMES, "output reaches the last packets");
  });
}

Deno.test("jitter buffer resyncs at once when timestamps jump further forward than the silence lasted", () => {
  const r = reopened(1000, 3000);
  assert.ok(r.jb.resyncs >= 1);
  assert.ok(r.jb.latePackets <= 2, `${r.jb.latePackets} late packets`);
  assert.equal(breaksAfterReopen(r, 1000, 20), 0, "the new packets play in order within 20 ms");
});

/** Packets taken for late while a resync is pending: LATE_RESYNC_MS of 5 ms packets, plus one. */
const LATE_ALLOWED = LATE_RESYNC_MS / 5 + 1;

for (const [gapMs, jumpMs] of [[1000, 500], [500, 100], [1200, 1000]]) {
  Deno.test(`jitter buffer resyncs within ${LATE_RESYNC_MS} ms when timestamps jump ${jumpMs} ms after ${gapMs} ms of silence`, () => {
    // The new packets look late against the old transit minimum: it must not wait out its window.
    const r = reopened(gapMs, jumpMs);
    assert.ok(r.jb.latePackets <= LATE_ALLOWED, `${r.jb.latePackets} packets taken for late`);
    assert.equal(r.jb.resyncs, 1);
    assert.equal(
      breaksAfterReopen(r, gapMs, LATE_RESYNC_MS + 20),
      0,
      `the new packets play in order ${LATE_RESYNC_MS + 20} ms after the first arrived`,
    );
  });
}

Deno.test("jitter buffer resyncs quickly after a burst ahead of real time, a silence and a stream late against it", () => {
  // A device at EOF delivers its last periods faster than real time before it faults
  // (ALSA's file plugin): their transit is far below the stream's, the base follows them down.
  const burst = (i: number) => i >= 990 && i < 1000;
  const r = simulate({
    packets: 2000,
    arrival: (i) => (burst(i) ? 20 + 990 * 5 : 20 + i * 5 + (i >= 1000 ? 1000 : 0)),
    frameOf: (i) => i * FRAMES + (i >= 1000 ? 48000 : 0),
  });
  assert.ok(r.jb.latePackets <= LATE_ALLOWED, `${r.jb.latePackets} packets taken for late`);
  assert.equal(breaksAfterReopen(r, 1000, LATE_RESYNC_MS + 20), 0);
});

Deno.test("jitter buffer does not resync for a burst of packets delayed by one stall", () => {
  // 40 packets held up for 200 ms, then delivered at once: the stall is concealed, the stream goes on.
  const r = simulate({
    packets: 2000,
    arrival: (i) => (i >= 700 && i < 740 ? 20 + 740 * 5 : 20 + i * 5),
  });
  assert.equal(r.jb.resyncs, 0);
  assert.ok(r.jb.latePackets > 0 && r.jb.latePackets <= 40, `${r.jb.latePackets} late`);
});

/**
 * A 440 Hz sine (amplitude 0.5) in 5 ms packets arriving at `arrival(i)` ms (in arrival order),
 * read in 128-frame blocks on the receiver's clock for `seconds`.
 */
function sineThrough(
  arrival: (i: number) => number,
  seconds = 20,
): { out: Float32Array; jb: JitterBuffer; concealedAfter1s: number } {
  const jb = new JitterBuffer({ thresholds: { interpolate: 100, drop: 200 } });
  const packets = (seconds * 1000) / 5;
  let concealedAt1s = 0, concealedAtEnd = 0;
  const order = Array.from({ length: packets }, (_, i) => i)
    .sort((a, b) => arrival(a) - arrival(b) || a - b);
  const read = 128;
  const reads = Math.floor((seconds * RATE) / read);
  const out = new Float32Array(reads * read);
  const samples = new Int32Array(FRAMES);
  let k = 0;
  for (let r = 0; r < reads; r++) {
    const now = T0 + ((r + 1) * read * 1000) / RATE;
    while (k < packets && T0 + arrival(order[k]) <= now) {
      const i = order[k++];
      for (let f = 0; f < FRAMES; f++) {
        samples[f] = Math.round(
          0.5 * 1e6 * Math.sin((2 * Math.PI * 440 * (i * FRAMES + f)) / RATE),
        );
      }
      jb.push({
        sequence: i,
        timestamp: i * FRAMES,
        clockRate: RATE,
        arrivalMs: T0 + arrival(i),
        channels: 1,
        frames: FRAMES,
        samples,
        fullScale: 1e6,
      });
    }
    jb.read(out.subarray(r * read, (r + 1) * read), read, now);
    if ((r + 1) * read <= RATE) concealedAt1s = jb.concealedFrames;
    // (a fast sender's last packets come before the reads end: the stream runs out)
    if ((r + 1) * read <= (seconds - 0.5) * RATE) concealedAtEnd = jb.concealedFrames;
  }
  return { out, jb, concealedAfter1s: concealedAtEnd - concealedAt1s };
}

/** The sine moves at most 0.5 · 2π · 440 / 48000 ≈ 0.029 per frame: a step over twice that is a click. */
function clicks(out: Float32Array, from: number): { clicks: number; worst: number } {
  const slope = 0.5 * 2 * Math.PI * 440 / RATE;
  let n = 0, worst = 0;
  for (let k = from + 1; k < out.length; k++) {
    const d = Math.abs(out[k] - out[k - 1]);
    if (d > 2 * slope) n++;
    worst = Math.max(worst, d);
  }
  return { clicks: n, worst };
}

/** A sender whose clock runs `ppm` fast or slow: the steering must skip or repeat media. */
function steeredSine(
  ppm: number,
): { out: Float32Array; jb: JitterBuffer; concealedAfter1s: number } {
  const ratio = 1 + ppm / 1e6;
  return sineThrough((i) => 20 + (i * 5) / ratio);
}

for (const ppm of [2000, -2000, -5000]) {
  Deno.test(`jitter buffer steers a sender ${ppm / 10_000} % off without clicks: splices are crossfaded`, () => {
    const { out, jb, concealedAfter1s } = steeredSine(ppm);
    const steered = ppm > 0 ? jb.skippedFrames : jb.repeatedFrames;
    assert.ok(steered > RATE * 20 * 0.001, `${steered} frames steered`); // it did follow the clock
    assert.equal(jb.concealedPackets + jb.droppedPackets, 0);
    assert.equal(
      concealedAfter1s,
      0,
      "a splice plays media again or skips it, never a concealment",
    );
    // A bare splice jumps by up to the sine's whole swing; a crossfade keeps to its slope.
    const c = clicks(out, RATE);
    assert.equal(c.clicks, 0, `${c.clicks} clicks, the worst a step of ${c.worst.toFixed(3)}`);
  });
}

Deno.test("jitter buffer resumes after a Wi-Fi spike without a click", () => {
  // Packets 1000–1011 (60 ms of media) come 80 ms late, as in a stage-ap spike: their frames are
  // concealed (faded out), and the media after them must come back in, not jump in.
  const { out, jb } = sineThrough((i) => 20 + i * 5 + (i >= 1000 && i < 1012 ? 80 : 0), 10);
  assert.ok(jb.latePackets >= 10, `${jb.latePackets} late`);
  assert.equal(jb.resyncs, 0);
  const c = clicks(out, RATE);
  assert.equal(c.clicks, 0, `${c.clicks} clicks, the worst a step of ${c.worst.toFixed(3)}`);
});

for (const rise of [10, 15]) {
  Deno.test(`jitter buffer follows a lasting ${rise} ms rise in lateness without a click`, () => {
    // Not a spike: from packet 1000 on every packet is `rise` ms later. Until the delay has grown
    // the read position runs into packets not yet come: each is concealed at its start and played
    // from where it is when it comes — merged into, not jumped into — and the repeats that grow
    // the delay fade out of the last frame played where the media after it has not come.
    const { out, jb } = sineThrough((i) => 20 + i * 5 + (i >= 1000 ? rise : 0), 10);
    assert.ok(jb.repeatedFrames > (rise - 2) * 48, `${jb.repeatedFrames} frames repeated`);
    assert.equal(jb.resyncs, 0);
    const c = clicks(out, RATE);
    assert.equal(c.clicks, 0, `${c.clicks} clicks, the worst a step of ${c.worst.toFixed(3)}`);
  });
}
