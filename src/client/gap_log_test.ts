import assert from "node:assert/strict";
import { GAP_CONCEALED, GAP_SILENT, GapLog, RESYNC } from "./gap_log.ts";

Deno.test("gap log hands its events over oldest first, once, and keeps the newest when full", () => {
  const log = new GapLog(3);
  log.add(10, 2, GAP_CONCEALED);
  log.add(20, 0, RESYNC);
  const out: number[] = [];
  log.drainInto(out);
  assert.deepEqual(out, [10, 2, GAP_CONCEALED, 20, 0, RESYNC]);
  const again: number[] = [];
  log.drainInto(again);
  assert.deepEqual(again, []);
  for (let t = 1; t <= 5; t++) log.add(t, t, GAP_SILENT);
  assert.equal(log.size, 3);
  assert.equal(log.overwritten, 2);
  const full: number[] = [];
  log.drainInto(full);
  assert.deepEqual(full, [3, 3, GAP_SILENT, 4, 4, GAP_SILENT, 5, 5, GAP_SILENT]);
  assert.throws(() => new GapLog(0), RangeError);
});
