import assert from "node:assert/strict";
import { GAP_CONCEALED, GAP_SILENT, RESYNC } from "../client/gap_log.ts";
import { figures, per10Min, recovery } from "./wifi_figures.ts";

const T = 1_000_000;

Deno.test("gaps go to the spike they fall in, else to a nearby drop, else count as late", () => {
  const relay = {
    spikes: [{ startMs: T + 5000, endMs: T + 5050, extraMs: 60 }],
    drops: [T + 2000, T + 8000],
  };
  const gaps = [
    T + 5010,
    4,
    GAP_CONCEALED, // in the spike
    T + 5100,
    2,
    GAP_CONCEALED, // its packets come `extra` later: still the spike's
    T + 2001,
    1,
    GAP_CONCEALED, // the dropped packet
    T + 3000,
    1,
    GAP_CONCEALED, // nothing there: the buffer was too short
    T + 8002,
    3,
    GAP_SILENT, // a drop, left silent
    T + 5020,
    0,
    RESYNC,
    T + 9000,
    0,
    RESYNC,
    T + 20_000,
    5,
    GAP_CONCEALED, // after the window
  ];
  const f = figures({ latency: [], gaps }, relay, T, T + 10_000);
  assert.deepEqual(f.gaps.spike, { events: 2, packets: 6 });
  assert.deepEqual(f.gaps.loss, { events: 2, packets: 4 });
  assert.deepEqual(f.gaps.late, { events: 1, packets: 1 });
  assert.deepEqual(f.gaps.silent, { events: 1, packets: 3 });
  assert.deepEqual(f.resyncs, { total: 2, inSpike: 1 });
  assert.equal(f.spikes.length, 1);
});

Deno.test("on TCP a drop is a retransmission: the gaps behind it are the loss's", () => {
  const gaps = [T + 2150, 20, GAP_CONCEALED];
  const udp = figures({ latency: [], gaps }, { spikes: [], drops: [T + 2000] }, T, T + 10_000);
  assert.equal(udp.gaps.late.events, 1);
  const tcp = figures(
    { latency: [], gaps },
    { spikes: [], drops: [T + 2000], retransmitMs: 200 },
    T,
    T + 10_000,
  );
  assert.equal(tcp.gaps.loss.events, 1);
});

Deno.test("recovery: from the spike's end until the latency is back near its level before", () => {
  const lat: number[] = [];
  const spike = { startMs: T + 20_000, endMs: T + 20_050, extraMs: 80 };
  for (let t = T; t < T + 40_000; t += 20) {
    // 20 ms before; 100 ms after the spike, decaying back by 10 ms a second
    const v = t < spike.startMs ? 20 : Math.max(20, 100 - ((t - spike.startMs) / 1000) * 10);
    lat.push(t, v);
  }
  const r = recovery(lat, spike);
  assert.equal(r.baselineMs, 20);
  assert.equal(r.peakMs, 100);
  // back within 2 ms (max(2, 10 % of 20)) once 100 − 10 s·t ≤ 22 over the next second's median
  assert.ok(r.recoveryMs !== null && r.recoveryMs > 7000 && r.recoveryMs < 8000, `${r.recoveryMs}`);
  const flat = recovery(lat.map((v, i) => (i % 2 ? 20 : v)), spike);
  assert.equal(flat.recoveryMs, 0);
});

Deno.test("per 10 minutes scales a count from the run's length", () => {
  assert.equal(per10Min(3, 300), 6);
  assert.equal(per10Min(3, 600), 3);
});
