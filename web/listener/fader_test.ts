import assert from "node:assert/strict";
import { dragValue } from "./fader.ts";

const TRAVEL_PX = 200;

Deno.test("a fader drag moves the value by the finger's movement from the grab, not to the finger", () => {
  // Level 0–2: the whole travel is 2, a quarter of it 0.5, whatever the start.
  assert.equal(dragValue(1, 50, TRAVEL_PX, 0, 2, 0.01), 1.5);
  assert.equal(dragValue(0.3, -50, TRAVEL_PX, 0, 2, 0.01), 0);
  assert.equal(dragValue(1, 0, TRAVEL_PX, 0, 2, 0.01), 1, "a grab without a move changes nothing");
});

Deno.test("a fader drag snaps to the step and stays in range", () => {
  assert.equal(dragValue(0, 13, TRAVEL_PX, -1, 1, 0.05), 0.15); // 0.13 → 0.15
  assert.equal(dragValue(0.9, 500, TRAVEL_PX, -1, 1, 0.05), 1);
  assert.equal(dragValue(-0.9, -500, TRAVEL_PX, -1, 1, 0.05), -1);
  assert.equal(dragValue(0, 1, TRAVEL_PX, -12, 12, 0.5), 0, "under half a step stays");
});

Deno.test("a fader with no room to travel keeps its value", () => {
  assert.equal(dragValue(0.7, 40, 0, 0, 2, 0.01), 0.7);
});
