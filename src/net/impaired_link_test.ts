import assert from "node:assert/strict";
import { ManualClock } from "../util/clock.ts";
import { ImpairedLink } from "./impaired_link.ts";
import { LATENESS_BIN_MS } from "./lateness.ts";
import { DROP, type ImpairmentModel } from "./impairment.ts";
import { WifiImpairment } from "./wifi_impairment.ts";
import { WIFI_PROFILES } from "./wifi_profile.ts";

/** A model that answers from a list (the test's own decisions). */
class Scripted implements ImpairmentModel {
  lastInSpike = false;
  private i = 0;
  constructor(private readonly answers: number[], private readonly spikes: boolean[] = []) {}
  decide(): number {
    this.lastInSpike = this.spikes[this.i] ?? false;
    return this.answers[this.i++];
  }
}

const one = (v: number) => new Uint8Array([v]);

Deno.test("link sends each datagram when its delay is over, in due order, and never early", () => {
  const clock = new ManualClock(1000);
  const sent: { v: number; at: number }[] = [];
  const link = new ImpairedLink(
    new Scripted([10, 2, DROP, 0, 5], [false, true, true, false, false]),
    (d) => void sent.push({ v: d[0], at: clock.now() }),
    { clock, timers: clock },
  );
  for (let v = 0; v < 5; v++) {
    link.offer(one(v));
    clock.advance(1);
  }
  // offered at 1000..1004: due 1010, 1003, —, 1003, 1009
  clock.advance(20);
  assert.deepEqual(sent, [
    { v: 1, at: 1003 },
    { v: 3, at: 1003 },
    { v: 4, at: 1009 },
    { v: 0, at: 1010 },
  ]);
  assert.deepEqual(
    { ...link.stats },
    {
      received: 5,
      dropped: 1,
      inSpike: 2,
      forwarded: 4,
      sendErrors: 0,
      overflow: 0,
      oversize: 0,
      maxLateMs: 0,
    },
  );
  assert.equal(link.pending, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("link holds a slot until the send settles, and counts what has no slot as overflow", async () => {
  const clock = new ManualClock(0);
  const settle: (() => void)[] = [];
  const link = new ImpairedLink(
    new Scripted([0, 0, 0, 0]),
    () => new Promise<void>((r) => settle.push(r)),
    { clock, timers: clock, capacity: 2, slotBytes: 4 },
  );
  link.offer(one(1));
  link.offer(one(2));
  link.offer(one(3)); // both slots wait on their sends
  assert.equal(link.stats.overflow, 1);
  settle.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  link.offer(one(4));
  assert.equal(link.stats.overflow, 1);
  assert.equal(link.stats.forwarded, 1);
  link.offer(new Uint8Array(5)); // never reaches the model's slots
  assert.equal(link.stats.oversize, 1);
});

Deno.test("link measures how late its timer let a datagram go", () => {
  const clock = new ManualClock(0);
  const stalled = new ManualClock(0); // timers of a busy runtime: they fire when it gets to them
  const link = new ImpairedLink(new Scripted([3]), () => {}, { clock, timers: stalled });
  link.offer(one(1));
  clock.set(7.5);
  link.flush(); // the timer, 4.5 ms after the due time

  assert.equal(link.stats.forwarded, 1);
  assert.equal(link.stats.maxLateMs, 4.5);
});

Deno.test("link keeps every datagram's lateness (p50, p99, max) and names its next due time", () => {
  const clock = new ManualClock(0);
  const stalled = new ManualClock(0); // a poll loop drives it: flush whenever nextDueMs has come
  const link = new ImpairedLink(new Scripted(Array(100).fill(2)), () => {}, {
    clock,
    timers: stalled,
  });
  assert.equal(link.nextDueMs, Infinity);
  for (let i = 0; i < 100; i++) {
    link.offer(one(i));
    assert.equal(link.nextDueMs, clock.now() + 2);
    clock.set(clock.now() + 2 + (i === 50 ? 9 : 0)); // on time but for one, 9 ms late
    link.flush();
  }
  const s = link.lateness.summary();
  assert.equal(s.count, 100);
  assert.ok(s.p50Ms <= LATENESS_BIN_MS, `p50 ${s.p50Ms}`);
  assert.equal(s.maxMs, 9);
  assert.equal(link.nextDueMs, Infinity);
});

Deno.test("link under stage-ap sends exactly the model's survivors, in the order of their due times", () => {
  const clock = new ManualClock(0);
  const sent: number[] = [];
  const due = new Map<number, number>();
  const dv = new DataView(new ArrayBuffer(4));
  const link = new ImpairedLink(
    new WifiImpairment(
      { ...WIFI_PROFILES["stage-ap"], loss: { random: 0.05, bursts_per_min: 0 } },
      9,
    ),
    (d) => void sent.push(new DataView(d.buffer, d.byteOffset).getUint32(0)),
    {
      clock,
      timers: clock,
      observe: (d, at, delay) => {
        if (delay !== DROP) due.set(new DataView(d.buffer, d.byteOffset).getUint32(0), at + delay);
      },
    },
  );
  for (let i = 0; i < 5000; i++) {
    dv.setUint32(0, i);
    link.offer(new Uint8Array(dv.buffer));
    clock.advance(1);
  }
  clock.advance(1000);
  const want = [...due.keys()].sort((a, b) => due.get(a)! - due.get(b)! || a - b);
  assert.deepEqual(sent, want);
  assert.equal(link.stats.dropped + sent.length, 5000);
  assert.ok(link.stats.dropped > 150, `${link.stats.dropped} dropped`);
  assert.ok(sent.some((v, i) => i > 0 && v < sent[i - 1]), "some packets overtook others");
});

Deno.test("link is idle once every held datagram is sent and its send has settled", async () => {
  const clock = new ManualClock(0);
  const settle: (() => void)[] = [];
  const link = new ImpairedLink(
    new Scripted([5, 10]),
    () => new Promise<void>((r) => settle.push(r)),
    { clock, timers: clock },
  );
  link.offer(one(1));
  link.offer(one(2));
  let idle = false;
  const waiting = link.idle().then(() => idle = true);
  clock.advance(10);
  assert.equal(link.pending, 0);
  await Promise.resolve();
  assert.equal(idle, false, "sent, but the sends have not settled");
  settle.splice(0).forEach((r) => r());
  await waiting;
  assert.equal(link.stats.forwarded, 2);
  await link.idle(); // already idle: resolves at once
});
