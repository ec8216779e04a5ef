import assert from "node:assert/strict";
import { type Ticker, TimeoutTicker, WorkerTicker } from "./ticker.ts";

const now = () => performance.timeOrigin + performance.now();

/** Starts `t`, waits for `n` ticks, stops it; returns the tick times (never a deadline). */
async function ticks(t: Ticker, n: number, periodMs: number): Promise<number[]> {
  const seen: number[] = [];
  const first = now() + periodMs;
  await new Promise<void>((resolve) => {
    t.start(first, periodMs, () => {
      seen.push(now());
      if (seen.length === n) resolve();
    });
  });
  t.stop();
  // Ticks never come before their deadline.
  seen.forEach((at, k) => assert.ok(at >= first + k * periodMs - 0.05, `tick ${k} early`));
  return seen;
}

type OnError = (e: unknown) => void;
for (
  const [name, make] of [["worker", (onError?: OnError) => new WorkerTicker(onError)], [
    "timeout",
    (onError?: OnError) => new TimeoutTicker(undefined, onError),
  ]] as const
) {
  Deno.test(`${name} ticker ticks once per period and stays silent after stop`, async () => {
    const t = make();
    const seen = await ticks(t, 5, 4);
    assert.equal(seen.length, 5);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, 5, "no tick after stop");
  });

  Deno.test(`${name} ticker can be restarted with a new period`, async () => {
    const t = make();
    await ticks(t, 2, 3);
    const again = await ticks(t, 3, 2);
    assert.equal(again.length, 3);
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
