import assert from "node:assert/strict";
import { type Ticker, TimeoutTicker, WorkerTicker } from "./ticker.ts";
import { ManualClock } from "../util/clock.ts";

const now = () => performance.timeOrigin + performance.now();
const WORKER_START_LEAD_MS = 200;

/**
 * How far a new worker thread's clock (its own `performance.timeOrigin`) may be
 * ahead of this thread's, measured now: each round trip bounds the offset d
 * (worker − main) to [t2 − t4, t2 − t1]; the tightest upper bound is returned.
 * Measured in the same run instead of assuming the clocks agree to some fixed
 * fraction of a millisecond.
 */
async function workerClockAheadMs(rounds = 20): Promise<number> {
  const src =
    "self.onmessage = () => self.postMessage(performance.timeOrigin + performance.now());";
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  try {
    let hi = Infinity;
    for (let i = 0; i < rounds; i++) {
      const reply = new Promise<number>((r) => (w.onmessage = (e) => r(e.data)));
      const t1 = now();
      w.postMessage(0);
      const t2 = await reply;
      hi = Math.min(hi, t2 - t1);
    }
    return hi;
  } finally {
    w.terminate();
    URL.revokeObjectURL(url);
  }
}

/**
 * Starts `t`, waits for `n` ticks, stops it; returns the tick times (never a deadline).
 * Ticks never come before their deadline on the ticker's clock: `aheadMs` is how far that
 * clock may run ahead of ours (0 on this thread).
 */
async function ticks(t: Ticker, n: number, periodMs: number, aheadMs = 0): Promise<number[]> {
  const seen: number[] = [];
  const first = now() + periodMs;
  await new Promise<void>((resolve) => {
    t.start(first, periodMs, () => {
      seen.push(now());
      if (seen.length === n) resolve();
    });
  });
  t.stop();
  seen.forEach((at, k) => {
    const due = first + k * periodMs - aheadMs;
    assert.ok(at >= due, `tick ${k} at ${at} before its deadline ${due}`);
  });
  return seen;
}

type OnError = (e: unknown) => void;

Deno.test("timeout ticker ticks once per period, never before its deadline on its own clock", async () => {
  const seen = await ticks(new TimeoutTicker(), 5, 4);
  assert.equal(seen.length, 5);
});

Deno.test("worker ticker never ticks before its deadline, given the threads' measured clock offset", async () => {
  // The ticker's worker is made between these two probes; its clock lies within their bounds.
  const before = await workerClockAheadMs();
  const t = new WorkerTicker();
  // Past the worker's start-up (tens of ms): late first ticks would hide early ones.
  const first = now() + WORKER_START_LEAD_MS;
  const seen: number[] = [];
  await new Promise<void>((resolve) => {
    t.start(first, 4, () => {
      seen.push(now());
      if (seen.length === 20) resolve();
    });
  });
  t.stop();
  const ahead = Math.max(before, await workerClockAheadMs());
  seen.forEach((at, k) => {
    const due = first + k * 4 - Math.max(0, ahead);
    assert.ok(at >= due, `tick ${k} at ${at} before ${due} (worker clock ≤ ${ahead} ms ahead)`);
  });
});

Deno.test("timeout ticker on an injected clock ticks only once the clock reaches each deadline", async () => {
  const clock = new ManualClock(1000);
  const t = new TimeoutTicker(() => clock.now());
  let n = 0;
  t.start(1010, 5, () => n++);
  // Real timers fire, but the ticker's clock has not reached 1010: nothing.
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(n, 0);
  clock.set(1010);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(n, 1);
  // A stall past three deadlines: one tick, and the next deadline is the one after now.
  clock.set(1026);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(n, 2);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(n, 2, "1030 not reached yet");
  clock.set(1030);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(n, 3);
  t.stop();
});

for (
  const [name, make] of [["worker", (onError?: OnError) => new WorkerTicker(onError)], [
    "timeout",
    (onError?: OnError) => new TimeoutTicker(undefined, onError),
  ]] as const
) {
  Deno.test(`${name} ticker ticks once per period and stays silent after stop`, async () => {
    const t = make();
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      t.start(now() + 4, 4, () => {
        seen.push(now());
        if (seen.length === 5) resolve();
      });
    });
    t.stop();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, 5, "no tick after stop");
  });

  Deno.test(`${name} ticker can be restarted with a new period`, async () => {
    const t = make();
    const once = (n: number, period: number) =>
      new Promise<number>((resolve) => {
        let k = 0;
        t.start(now() + period, period, () => {
          if (++k === n) resolve(k);
        });
      });
    await once(2, 3);
    t.stop();
    assert.equal(await once(3, 2), 3);
    t.stop();
  });

  Deno.test(`${name} ticker keeps ticking when onTick throws and reports every throw`, async () => {
    const errors: unknown[] = [];
    const t = make((e) => errors.push(e));
    let n = 0;
    await new Promise<void>((resolve) => {
      t.start(now() + 2, 2, () => {
        if (++n === 6) return resolve();
        throw new Error(`sink failed in tick ${n}`);
      });
    });
    t.stop();
    assert.equal(n, 6, "the ticks after a throw still came");
    assert.equal(errors.length, 5);
    assert.match(String(errors[4]), /tick 5/);
  });
}
