import assert from "node:assert/strict";
import {
  BandwidthMeter,
  JitterEstimator,
  misorderFor,
  SeqStatus,
  SequenceTracker,
} from "./stats.ts";

function near(actual: number, expected: number, eps: number): void {
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected} ± ${eps}, got ${actual}`);
}

function feed(t: SequenceTracker, seqs: number[]): number[] {
  return seqs.map((s) => t.update(s));
}

Deno.test("sequence tracker counts a clean run with no loss", () => {
  const t = new SequenceTracker();
  feed(t, [100, 101, 102, 103]);
  assert.deepEqual([t.expected, t.received, t.lost, t.lossRate], [4, 4, 0, 0]);
  assert.deepEqual(t.extendedMax, 103);
});

Deno.test("sequence tracker extends the sequence across the wrap at 65535", () => {
  const t = new SequenceTracker();
  feed(t, [65533, 65534, 65535, 0, 1, 2]);
  assert.deepEqual([t.expected, t.received, t.lost], [6, 6, 0]);
  assert.deepEqual(t.extendedMax, 65536 + 2);
});

Deno.test("sequence tracker counts a reordered packet once and loses nothing", () => {
  const t = new SequenceTracker();
  const st = feed(t, [10, 12, 11, 13]);
  assert.deepEqual(st, [SeqStatus.InOrder, SeqStatus.InOrder, SeqStatus.Late, SeqStatus.InOrder]);
  assert.deepEqual([t.expected, t.received, t.lost, t.reordered], [4, 4, 0, 1]);
});

Deno.test("sequence tracker handles reordering across the wrap", () => {
  const t = new SequenceTracker();
  feed(t, [65534, 0, 65535, 1]);
  assert.deepEqual([t.expected, t.received, t.lost, t.reordered], [4, 4, 0, 1]);
  assert.deepEqual(t.extendedMax, 65537);
});

Deno.test("sequence tracker ignores duplicates of the highest and of older packets", () => {
  const t = new SequenceTracker();
  const st = feed(t, [10, 11, 11, 12, 10]);
  assert.deepEqual(st[2], SeqStatus.Duplicate);
  assert.deepEqual(st[4], SeqStatus.Duplicate);
  assert.deepEqual([t.expected, t.received, t.lost, t.duplicates], [3, 3, 0, 2]);
});

Deno.test("sequence tracker detects a duplicate after the window has moved on", () => {
  const t = new SequenceTracker();
  for (let s = 0; s <= 1100; s++) t.update(s);
  assert.deepEqual(t.update(1001), SeqStatus.Duplicate); // 99 behind: inside MAX_MISORDER
  assert.deepEqual(t.update(1000), SeqStatus.Invalid); // 100 behind: too old (RFC 3550 A.1)
  assert.deepEqual(t.update(1100), SeqStatus.Duplicate);
  assert.deepEqual([t.expected, t.received, t.duplicates, t.invalid], [1101, 1101, 2, 1]);
});

Deno.test("sequence tracker counts a loss burst and a late fill-in", () => {
  const t = new SequenceTracker();
  for (let s = 100; s < 110; s++) t.update(s);
  for (let s = 120; s < 130; s++) t.update(s);
  assert.deepEqual([t.expected, t.received, t.lost], [30, 20, 10]);
  near(t.lossRate, 1 / 3, 1e-12);
  t.update(115); // one of the lost ones turns up late
  assert.deepEqual([t.expected, t.received, t.lost, t.reordered], [30, 21, 9, 1]);
});

Deno.test("sequence tracker counts a late packet from before the first one", () => {
  const t = new SequenceTracker();
  feed(t, [50, 52, 49]);
  assert.deepEqual([t.expected, t.received, t.lost], [4, 3, 1]);
});

Deno.test("sequence tracker ignores one wild jump and resyncs on a confirmed one", () => {
  const t = new SequenceTracker();
  assert.deepEqual(feed(t, [10, 11, 5000, 12]), [0, 0, SeqStatus.Invalid, 0]);
  assert.deepEqual([t.expected, t.received, t.invalid], [3, 3, 1]);
  assert.deepEqual(feed(t, [9000, 9001, 9002]), [
    SeqStatus.Invalid,
    SeqStatus.Resync,
    SeqStatus.InOrder,
  ]);
  assert.deepEqual([t.expected, t.received, t.lost, t.resyncs], [5, 5, 0, 1]);
});

Deno.test("sequence tracker keeps totals across restart (a new SSRC)", () => {
  const t = new SequenceTracker();
  feed(t, [1, 2, 4]);
  t.restart();
  feed(t, [40000, 40001]);
  assert.deepEqual([t.expected, t.received, t.lost], [6, 5, 1]);
});

Deno.test("jitter matches a hand-computed RFC 3550 A.8 trace", () => {
  // 8000 Hz clock, 20 ms packets (160 ticks). Arrivals 0, 20, 45, 55 ms.
  // transit = arrival·8 − ts: 0, 0, 40, −40 → |D| = 0, 40, 80
  // J: 0 → 0 + (0−0)/16 = 0 → 0 + (40−0)/16 = 2.5 → 2.5 + (80−2.5)/16 = 7.34375 ticks
  const j = new JitterEstimator(8000);
  const trace: [number, number][] = [[0, 0], [160, 20], [320, 45], [480, 55]];
  for (const [ts, ms] of trace) j.update(ts, ms);
  near(j.jitter, 7.34375, 1e-9);
  near(j.jitterMs, 7.34375 / 8, 1e-9);
});

Deno.test("jitter stays zero for perfectly paced packets across the 32-bit timestamp wrap", () => {
  const j = new JitterEstimator(48000);
  let ts = 0xffff_ffff - 480;
  for (let i = 0; i < 10; i++) {
    j.update(ts, 1_700_000_000_000 + i * 5);
    ts = (ts + 240) >>> 0;
  }
  near(j.jitter, 0, 1e-6);
});

Deno.test("jitter restart converts the estimate to the new clock rate", () => {
  const j = new JitterEstimator(8000);
  j.jitter = 80; // 10 ms
  j.restart(48000);
  near(j.jitterMs, 10, 1e-9);
});

Deno.test("bandwidth meter reports Mbit/s per interval", () => {
  const b = new BandwidthMeter(1000);
  b.add(1000);
  b.add(250);
  near(b.take(1010), 1, 1e-12); // 1250 B · 8 / 10 ms
  assert.deepEqual(b.take(1020), 0);
  assert.equal(b.totalBytes, 1250);
});

Deno.test("a Wi-Fi delay spike that lets 600 newer packets overtake is reordering, not a restart", () => {
  // 32 channels of L24 are about 4000 datagrams a second; a 150 ms spike holds 600 of them.
  const t = new SequenceTracker();
  t.setPacketRate(4000);
  const order: number[] = [];
  for (let s = 0; s < 1000; s++) order.push(s);
  for (let s = 1600; s < 2200; s++) order.push(s); // newer ones overtake …
  for (let s = 1000; s < 1600; s++) order.push(s); // … the 600 held back by the spike
  for (let s = 2200; s < 3000; s++) order.push(s);
  const st = feed(t, order);
  assert.equal(st.filter((x) => x === SeqStatus.Invalid).length, 0);
  assert.deepEqual([t.expected, t.received, t.lost, t.resyncs], [3000, 3000, 0, 0]);
  assert.equal(t.reordered, 600);
});

Deno.test("at RFC 3550's default limit the same spike would look like a restart and lose the stream", () => {
  const t = new SequenceTracker(); // no packet rate: 100 behind at most
  const order: number[] = [];
  for (let s = 0; s < 1000; s++) order.push(s);
  for (let s = 1600; s < 2200; s++) order.push(s);
  for (let s = 1000; s < 1600; s++) order.push(s);
  feed(t, order);
  assert.ok(t.invalid > 0 || t.resyncs > 0, "the old limit misreads the spike");
});

Deno.test("the misorder limit follows the packet rate within RFC 3550's floor and a cap", () => {
  assert.equal(misorderFor(200), 100); // one Opus packet every 5 ms: the RFC's 100 is plenty
  assert.equal(misorderFor(4000), 2000);
  assert.equal(misorderFor(1e6), 8192);
  assert.equal(misorderFor(NaN), 100);
});
