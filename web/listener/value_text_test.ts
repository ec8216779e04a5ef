import assert from "node:assert/strict";
import { dbText, eqLabel, panLabel, panText, volumeLabel, volumeText } from "./value_text.ts";

Deno.test("fader gains are shown in dB to a tenth and spoken without a trailing .0", () => {
  assert.equal(volumeLabel(0.5), "−6.0 dB");
  assert.equal(volumeText(0.5), "−6 dB");
  assert.equal(volumeLabel(1), "0.0 dB");
  assert.equal(volumeText(1), "0 dB");
  assert.equal(volumeLabel(2), "+6.0 dB");
  assert.equal(volumeText(1.5), "+3.5 dB");
  assert.equal(volumeLabel(0), "−∞");
  assert.equal(volumeText(0), "off");
});

Deno.test("pan is shown as L20/C/R35 and spoken as L 20, centre, R 35", () => {
  assert.deepEqual([-0.2, 0, 0.35].map(panLabel), ["L20", "C", "R35"]);
  assert.deepEqual([-0.2, 0.004, 0.35].map(panText), ["L 20", "centre", "R 35"]);
});

Deno.test("EQ gains read with their sign", () => {
  assert.deepEqual([2.5, 0, -12].map(eqLabel), ["+2.5 dB", "0.0 dB", "−12.0 dB"]);
  assert.deepEqual([2.5, 0, -12].map(dbText), ["+2.5 dB", "0 dB", "−12 dB"]);
});
