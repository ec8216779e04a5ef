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

for (
  const [name, make] of [["worker", () => new WorkerTicker()], [
    "timeout",
    () => new TimeoutTicker(),
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
}
