/**
 * The frame timeline the pipeline sees through the capture controller: it
 * continues across source reopenings (a device fault and retry, a fallback
 * source, another native rate), advanced by the wall time without audio, so
 * every client's RTP timestamps keep tracking the capture clock.
 */
import assert from "node:assert/strict";
import { CaptureController } from "./capture.ts";
import { ContinuousTimeline } from "./continuous_timeline.ts";
import { ResamplingConverter } from "./rate_converter.ts";
import { Reblocker } from "./reblocker.ts";
import type { Period } from "./source.ts";
import { ManualClock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { FAKE_PERIOD_MS, FakeDevice, run, settle } from "../../tests/helpers/fake_source.ts";

const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quiet,
};

/** 5 ms at 48 kHz: a period as the console delivers it. */
const FRAMES_48K = 240;

interface Seen {
  frameIndex: number;
  frames: number;
  sampleRate: number;
  captureTimeMs: number;
}

function rig(devices: FakeDevice[], retryMs = 1500) {
  const seen: Seen[] = [];
  const clock = devices[0].clock;
  const c = new CaptureController({
    candidates: () => devices.map((d) => ({ kind: d.kind, create: d.create })),
    sink: (p: Period) =>
      seen.push({
        frameIndex: p.frameIndex,
        frames: p.frames,
        sampleRate: p.sampleRate,
        captureTimeMs: p.captureTimeMs,
      }),
    log: quiet,
    clock,
    timers: clock,
    retryMs,
  });
  return { c, seen };
}

function device(clock: ManualClock, kind: "alsa" | "test", rate = 48000): FakeDevice {
  const d = new FakeDevice(clock, kind);
  d.sampleRate = rate;
  d.framesPerPeriod = (rate * FAKE_PERIOD_MS) / 1000;
  return d;
}

/** Each period starts after the previous one ends (in time, across a rate change). */
function assertIncreasing(seen: Seen[]): void {
  for (let i = 1; i < seen.length; i++) {
    const prev = seen[i - 1];
    const p = seen[i];
    const prevEnd = ((prev.frameIndex + prev.frames) * p.sampleRate) / prev.sampleRate;
    assert.ok(
      p.frameIndex >= prevEnd,
      `period ${i} starts at frame ${p.frameIndex}, before ${prevEnd} (${p.sampleRate} Hz)`,
    );
  }
}

/** The one place the index jumps: [last period before, first period after]. */
function theJump(seen: Seen[]): [Seen, Seen] {
  const jumps = seen.flatMap((p, i) =>
    i > 0 && p.frameIndex !== seen[i - 1].frameIndex + seen[i - 1].frames ? [i] : []
  );
  assert.equal(jumps.length, 1, `one discontinuity, at the reopen (${jumps})`);
  return [seen[jumps[0] - 1], seen[jumps[0]]];
}

Deno.test("after a device fault and a reopen 1.5 s later the frame index continues, advanced by the time without audio", async () => {
  const clock = new ManualClock();
  const alsa = device(clock, "alsa");
  const { c, seen } = rig([alsa]);
  void c.start();
  await run(clock, 200);
  const before = seen.length;
  assert.ok(before >= 30);
  alsa.delivering()!.fault("USB glitch");
  await settle();
  await run(clock, 1500 + 100);
  assert.equal(c.status.state, "running", "reopened");
  assert.ok(seen.length > before + 10, "audio flows again");

  assertIncreasing(seen);
  const [last, first] = theJump(seen);
  const elapsedFrames = ((first.captureTimeMs - last.captureTimeMs) * 48000) / 1000;
  const jump = first.frameIndex - last.frameIndex;
  assert.ok(
    Math.abs(jump - elapsedFrames) <= FRAMES_48K,
    `jump ${jump} frames for ${elapsedFrames} frames of wall time`,
  );
  assert.ok(jump >= 1.5 * 48000, `at least the 1.5 s without audio (${jump} frames)`);
  void c.stop();
  await run(clock, 0);
});

Deno.test("a fallback source at another native rate continues the timeline at its own rate", async () => {
  const clock = new ManualClock();
  const alsa = device(clock, "alsa", 48000);
  const test = device(clock, "test", 44100);
  const { c, seen } = rig([alsa, test]);
  void c.start();
  await run(clock, 1000);
  // The configuration changes and the console no longer opens: the test signal takes over.
  alsa.failOpen = "no such device";
  void c.restart();
  await run(clock, 700);
  assert.equal(c.status.source, "test");

  assertIncreasing(seen);
  const [last, first] = theJump(seen);
  assert.equal(last.sampleRate, 48000);
  assert.equal(first.sampleRate, 44100);
  // Time since the timeline began, in seconds, is the same on both sides of the switch.
  const lastEndS = (last.frameIndex + last.frames) / 48000;
  const firstS = first.frameIndex / 44100;
  const gapS = (first.captureTimeMs - (last.captureTimeMs + (last.frames * 1000) / 48000)) / 1000;
  assert.ok(
    Math.abs(firstS - lastEndS - gapS) <= FAKE_PERIOD_MS / 1000,
    `the 44.1 kHz source starts ${firstS - lastEndS} s after the 48 kHz one ended (${gapS} s)`,
  );
  void c.stop();
  await run(clock, 0);
});

Deno.test("when nobody streams the timeline starts again with the source's own index", async () => {
  const clock = new ManualClock();
  const alsa = device(clock, "alsa");
  const { c, seen } = rig([alsa]);
  void c.start();
  await run(clock, 100);
  void c.stop();
  await run(clock, 2000);
  const before = seen.length;
  void c.start();
  await run(clock, 100);
  assert.equal(seen[before].frameIndex, 0, "a new stream begins at the source's frame 0");
  void c.stop();
  await run(clock, 0);
});

Deno.test("through the reblocker and a 44.1 kHz converter the reopen is a forward gap they restart on", async () => {
  const clock = new ManualClock();
  const alsa = device(clock, "alsa");
  const out: Seen[] = [];
  const converter = new ResamplingConverter(48000, 44100, 4096);
  const reblocker = Reblocker.packetTimes(() => 5, (p) => {
    const q = converter.process(p);
    if (q) {
      out.push({
        frameIndex: q.frameIndex,
        frames: q.frames,
        sampleRate: q.sampleRate,
        captureTimeMs: q.captureTimeMs,
      });
    }
  });
  const c = new CaptureController({
    candidates: () => [{ kind: alsa.kind, create: alsa.create }],
    sink: reblocker.push,
    log: quiet,
    clock,
    timers: clock,
    retryMs: 1500,
  });
  try {
    void c.start();
    await run(clock, 200);
    alsa.delivering()!.fault("USB glitch");
    await settle();
    await run(clock, 1500 + 200);
    assertIncreasing(out);
    const [last, first] = theJump(out);
    const jumpMs = ((first.frameIndex - last.frameIndex) * 1000) / 44100;
    const elapsedMs = first.captureTimeMs - last.captureTimeMs;
    assert.ok(
      Math.abs(jumpMs - elapsedMs) <= FAKE_PERIOD_MS,
      `the 44.1 kHz stream jumps ${jumpMs} ms for ${elapsedMs} ms`,
    );
  } finally {
    void c.stop();
    await run(clock, 0);
    converter.close();
  }
});

Deno.test("a jump inside one open (an overrun) passes through the timeline unchanged", () => {
  const t = new ContinuousTimeline();
  const p: Period = {
    data: new Int32Array(2 * 240),
    frames: 240,
    channels: 2,
    sampleRate: 48000,
    frameIndex: 0,
    captureTimeMs: 1000,
  };
  assert.equal(t.place(1, p).frameIndex, 0, "the first open keeps the source's own index");
  p.frameIndex = 240 + 960; // 20 ms lost
  p.captureTimeMs = 1025;
  assert.equal(t.place(1, p).frameIndex, 1200);
  // A reopen right away: at least one frame of gap, so the next stages see a discontinuity.
  p.frameIndex = 0;
  p.captureTimeMs = 1025;
  assert.equal(t.place(2, p).frameIndex, 1440 + 1);
  assert.equal(p.frameIndex, 0, "the source's own period is not touched");
});
