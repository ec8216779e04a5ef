import assert from "node:assert/strict";
import {
  BlockSchedule,
  FLOOR_QUIET_S,
  LEAD_QUIET_S,
  LEAD_SHRINK_MS,
  LEAD_START_MS,
  LEAD_STEP_MS,
} from "./block_schedule.ts";

const TICK_S = 0.005;

/** Ticks from `from` to `to` (context s), every TICK_S but those in `stalls` [start, end). */
function run(s: BlockSchedule, from: number, to: number, stalls: [number, number][] = []) {
  const planned: { at: number; start: number; readAt: number }[] = [];
  const out: number[] = [];
  for (let t = from; t < to; t += TICK_S) {
    if (stalls.some(([a, b]) => t >= a && t < b)) continue;
    s.plan(t, out);
    for (const start of out) planned.push({ at: t, start, readAt: s.readAt(start) });
  }
  return planned;
}

Deno.test("a block is read the lead before it ends, no earlier, and never before its read time has come", () => {
  const s = new BlockSchedule();
  const planned = run(s, 1, 3);
  assert.ok(planned.length > 300);
  for (const p of planned) {
    // The read-to-play distance is what the page adds to the jitter buffer's delay: the lead.
    assert.ok(Math.abs(p.start + s.dur - p.readAt - s.leadMs / 1000) < 1e-9, `read ${p.readAt}`);
    assert.ok(
      p.readAt <= p.at + 1e-9,
      `block at ${p.start} read as due at ${p.readAt}, planned at ${p.at}`,
    );
  }
  assert.equal(s.underruns, 0);
  assert.equal(s.leadMs, LEAD_START_MS);
});

Deno.test("a stalled main thread runs the schedule dry: the lead grows, and comes back down when quiet", () => {
  const s = new BlockSchedule();
  const stall = (t: number) => [[t, t + 2 * (s.leadMs / 1000)]] as [number, number][];
  // Underruns in a row while the lead grows (a page loading): the floor stays where it was.
  run(s, 1, 2, stall(1.5));
  run(s, 2, 3, stall(2.5));
  assert.equal(s.underruns, 2);
  assert.equal(s.leadMs, LEAD_START_MS + 2 * LEAD_STEP_MS);
  assert.equal(s.floorMs, LEAD_START_MS);
  let t = 3;
  run(s, t, t += 5 * LEAD_QUIET_S);
  assert.equal(s.leadMs, LEAD_START_MS, "back to the start after a quiet spell");
});

Deno.test("an underrun right after the lead stepped down raises the floor to the lead before that step, which stops the lead shrinking into the next one", () => {
  const s = new BlockSchedule();
  run(s, 1, 2, [[1.5, 1.5 + 2 * LEAD_START_MS / 1000]]);
  assert.equal(s.leadMs, LEAD_START_MS + LEAD_STEP_MS);
  let t = 2;
  run(s, t, t += LEAD_QUIET_S + 1); // one step down
  assert.equal(s.leadMs, LEAD_START_MS + LEAD_STEP_MS - LEAD_SHRINK_MS);
  // The main thread stalls longer than this smaller lead: the step down was one too many.
  run(s, t, t + 1, [[t + 0.5, t + 0.5 + 2 * s.leadMs / 1000]]);
  t += 1;
  assert.equal(s.underruns, 2);
  assert.equal(s.floorMs, LEAD_START_MS + LEAD_STEP_MS);
  run(s, t, t += 4 * LEAD_QUIET_S);
  assert.equal(s.leadMs, s.floorMs, "shrinks to the floor, not below");
  // Quiet for long: the floor, then the lead, come back down to the start.
  run(s, t, t += 2 * FLOOR_QUIET_S + 3 * LEAD_QUIET_S);
  assert.equal(s.floorMs, LEAD_START_MS);
  assert.equal(s.leadMs, LEAD_START_MS);
});
