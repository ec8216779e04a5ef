import assert from "node:assert/strict";
import { DROP } from "./impairment.ts";
import { UniformImpairment } from "./uniform_impairment.ts";

Deno.test("uniform impairment drops about the configured share, reproducibly", () => {
  const run = (seed: number) => {
    const m = new UniformImpairment({ lossPct: 10, seed });
    let dropped = 0;
    for (let i = 0; i < 20000; i++) if (m.decide(i) === DROP) dropped++;
    return dropped;
  };
  const a = run(1);
  assert.ok(a > 1800 && a < 2200, `${a} of 20000 dropped at 10 %`);
  assert.equal(run(1), a);
  assert.notEqual(run(2), a);
});

Deno.test("uniform impairment delays within delay + jitter and reorders the configured share", () => {
  const m = new UniformImpairment({
    delayMs: 30,
    jitterMs: 10,
    reorderPct: 5,
    reorderDelayMs: 100,
  });
  let reordered = 0;
  for (let i = 0; i < 10000; i++) {
    const d = m.decide(1000);
    assert.ok(d >= 30 && d <= 140, `delay ${d}`);
    if (d >= 130) reordered++;
  }
  assert.ok(reordered > 400 && reordered < 600, `${reordered} of 10000 reordered at 5 %`);
  assert.throws(() => new UniformImpairment({ lossPct: 120 }), /lossPct must be 0–100/);
});
