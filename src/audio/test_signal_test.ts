import assert from "node:assert/strict";
import { ManualClock, systemClock } from "../util/clock.ts";
import { getLogger } from "../util/log.ts";
import { CaptureController } from "./capture.ts";
import { WorkerTicker } from "./ticker.ts";
import { TestSignalSource, TONE_AMPLITUDE } from "./test_signal.ts";
import type { Period } from "./source.ts";

function manual(mode: "id" | "tone", bits: 16 | 24 = 24) {
  const clock = new ManualClock(1_000_000);
  const src = new TestSignalSource({
    mode,
    bits,
    sampleRate: 48000,
    framesPerPeriod: 240,
    clock,
    ticker: { start: () => {}, stop: () => {} },
  });
  const got: { frameIndex: number; captureTimeMs: number; data: Int32Array }[] = [];
  const sink = (p: Period) =>
    got.push({ frameIndex: p.frameIndex, captureTimeMs: p.captureTimeMs, data: p.data.slice() });
  return { clock, src, got, sink };
}

Deno.test("id test signal carries the channel number exactly in L24 and L16", async () => {
  for (const bits of [24, 16] as const) {
    const { clock, src, got, sink } = manual("id", bits);
    await src.start(sink, { onFault: () => {} });
    clock.advance(5);
    src.produceDue(clock.now());
    assert.equal(got.length, 1);
    const d = got[0].data;
    for (let i = 0; i < d.length; i++) {
      const id = (i % 32) + 1;
      assert.equal(bits === 24 ? d[i] >> 8 : d[i] >> 16, id);
    }
  }
});

Deno.test("test signal delivers a period only once it is complete and timestamps its first frame", async () => {
  const { clock, src, got, sink } = manual("id");
  const t0 = clock.now();
  await src.start(sink, { onFault: () => {} });
  clock.advance(4.9);
  assert.equal(src.produceDue(clock.now()), 0);
  clock.advance(0.1);
  assert.equal(src.produceDue(clock.now()), 1);
  clock.advance(12);
  assert.equal(src.produceDue(clock.now()), 2, "a late timer catches up with every due period");
  assert.deepEqual(got.map((g) => g.frameIndex), [0, 240, 480]);
  assert.deepEqual(got.map((g) => g.captureTimeMs - t0), [0, 5, 10]);
});

Deno.test("test signal resynchronises after a long stall instead of bursting", async () => {
  const { clock, src, got, sink } = manual("id");
  await src.start(sink, { onFault: () => {} });
  clock.advance(5000);
  src.produceDue(clock.now());
  assert.equal(got.length, 1);
  assert.equal(got[0].frameIndex, 999 * 240);
  assert.equal(src.skippedPeriods, 999);
});

Deno.test("tone test signal is id × 100 Hz at −20 dBFS and continuous across periods", async () => {
  const { clock, src, got, sink } = manual("tone");
  await src.start(sink, { onFault: () => {} });
  clock.advance(50);
  src.produceDue(clock.now());
  assert.equal(got.length, 10);
  const ch = 7; // 700 Hz
  const samples: number[] = [];
  for (const g of got) for (let f = 0; f < 240; f++) samples.push(g.data[f * 32 + (ch - 1)]);
  const amp = TONE_AMPLITUDE * 2 ** 31;
  for (let n = 0; n < samples.length; n++) {
    const want = Math.sin((2 * Math.PI * ch * 100 * n) / 48000) * amp;
    assert.ok(Math.abs(samples[n] - want) < 512, `sample ${n}: ${samples[n]} vs ${want}`);
    assert.equal(samples[n] & 0xff, 0);
  }
});

/** Resolves once `n` periods reached a sink that throws on every other one. */
function throwingSink(n: number) {
  let calls = 0;
  let done!: () => void;
  const reached = new Promise<void>((r) => (done = r));
  const sink = (_p: Period) => {
    if (++calls === n) done();
    if (calls % 2 === 1) throw new Error(`engine failed on period ${calls}`);
  };
  return { sink, reached, calls: () => calls };
}

Deno.test("a throwing sink on the paced test signal kills nothing: the next periods still arrive", async () => {
  const errors: unknown[] = [];
  const src = new TestSignalSource({
    mode: "id",
    bits: 24,
    sampleRate: 48000,
    framesPerPeriod: 48, // 1 ms periods
    clock: systemClock,
    ticker: new WorkerTicker((e) => errors.push(e)),
  });
  const t = throwingSink(20);
  await src.start(t.sink, { onFault: () => {} });
  await t.reached;
  await src.stop();
  assert.ok(t.calls() >= 20);
  assert.ok(errors.length >= 10, `every throw reported to the ticker (${errors.length})`);
});

Deno.test("through the capture controller a throwing sink is counted in the status and audio keeps flowing", async () => {
  const t = throwingSink(20);
  const c = new CaptureController({
    candidates: () => [{
      kind: "test",
      create: () =>
        new TestSignalSource({
          mode: "id",
          bits: 24,
          sampleRate: 48000,
          framesPerPeriod: 48,
          clock: systemClock,
        }),
    }],
    sink: t.sink,
    log: getLogger("test"),
  });
  await c.start();
  await t.reached;
  const st = c.status;
  const calls = t.calls();
  await c.stop();
  assert.equal(st.state, "running");
  assert.ok(calls >= 20);
  assert.equal(st.sinkErrors, Math.ceil(calls / 2), "every other period threw");
  assert.equal(c.status.state, "idle");
});
