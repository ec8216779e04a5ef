import assert from "node:assert/strict";
import { CLIP_HOLD_MS, ClipIndicator } from "./clip_indicator.ts";

Deno.test("clip indicator lights on a new clip and holds it, then goes dark", () => {
  const c = new ClipIndicator();
  assert.equal(c.update(0, 1000), false);
  assert.equal(c.update(1, 1010), true);
  assert.equal(c.update(1, 1010 + CLIP_HOLD_MS - 1), true, "held");
  assert.equal(c.update(1, 1010 + CLIP_HOLD_MS), false, "hold over");
});

Deno.test("clip indicator hold restarts with every further clip", () => {
  const c = new ClipIndicator();
  c.update(3, 0);
  assert.equal(c.update(4, CLIP_HOLD_MS - 10), true);
  assert.equal(c.update(4, CLIP_HOLD_MS + 500), true);
});

Deno.test("a tap clears the clip indicator until the next clip", () => {
  const c = new ClipIndicator();
  c.update(1, 0);
  c.clear();
  assert.equal(c.update(1, 10), false);
  assert.equal(c.update(2, 20), true);
});

Deno.test("clip indicator follows a new playout whose count starts again from zero", () => {
  const c = new ClipIndicator();
  c.update(50, 0);
  assert.equal(c.update(0, CLIP_HOLD_MS + 1), false);
  assert.equal(c.update(1, CLIP_HOLD_MS + 2), true);
});
