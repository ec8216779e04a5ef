import assert from "node:assert/strict";
import { DROP, type ImpairmentModel } from "./impairment.ts";
import { InOrderDelay, TCP_RTO_MIN_MS } from "./in_order_delay.ts";

class Scripted implements ImpairmentModel {
  lastInSpike = false;
  private i = 0;
  constructor(private readonly answers: number[]) {}
  decide(): number {
    return this.answers[this.i++];
  }
}

Deno.test("a byte stream keeps its order: a late chunk holds back the ones after it", () => {
  const d = new InOrderDelay(new Scripted([5, 30, 2, 1]));
  // read at 0, 1, 2, 40: own release 5, 31, 4, 41
  assert.deepEqual([0, 1, 2, 40].map((t) => d.releaseAt(t)), [5, 31, 31, 41]);
  assert.equal(d.stats.headOfLineBlocked, 1);
  assert.equal(d.stats.retransmitted, 0);
});

Deno.test("a lost chunk arrives after a retransmission timeout instead, and blocks what follows", () => {
  const d = new InOrderDelay(new Scripted([1, DROP, 1, 1]));
  assert.deepEqual([0, 10, 11, 300].map((t) => d.releaseAt(t)), [
    1,
    10 + TCP_RTO_MIN_MS,
    10 + TCP_RTO_MIN_MS,
    301,
  ]);
  assert.equal(d.stats.retransmitted, 1);
  assert.equal(d.stats.headOfLineBlocked, 1);
  assert.equal(new InOrderDelay(new Scripted([DROP]), 50).releaseAt(0), 50);
});
