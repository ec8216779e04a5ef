import assert from "node:assert/strict";
import { DROP } from "./impairment.ts";
import { WifiImpairment } from "./wifi_impairment.ts";
import {
  fitJitter,
  WIFI_PROFILES,
  type WifiProfile,
  type WifiProfileName,
} from "./wifi_profile.ts";

const T0 = 1_700_000_000_000;
/** One datagram per 5 ms packet time (a client of up to 4 channels, L24 48 kHz). */
const PACKET_INTERVAL_MS = 5;
/** The bench's 8-channel clients: 5 datagrams per 5 ms packet time. */
const BENCH_INTERVAL_MS = 1;
const N = 200_000;

function quantile(sorted: number[], p: number): number {
  return sorted[Math.floor(p * (sorted.length - 1))];
}

function run(profile: WifiProfile, seed: number, n: number, intervalMs: number) {
  const m = new WifiImpairment(profile, seed);
  const delays: number[] = [], jitter: number[] = [], spikeExtra: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = m.decide(T0 + i * intervalMs);
    delays.push(d);
    if (d === DROP) continue;
    if (m.lastInSpike) spikeExtra.push(d - profile.base_ms - m.lastJitterMs);
    else jitter.push(m.lastJitterMs);
  }
  return { m, delays, jitter: jitter.sort((a, b) => a - b), spikeExtra };
}

Deno.test("the same seed gives the same drops and delays, another seed others", () => {
  const p = WIFI_PROFILES["crowded"];
  const a = run(p, 7, 20_000, PACKET_INTERVAL_MS).delays;
  assert.deepEqual(run(p, 7, 20_000, PACKET_INTERVAL_MS).delays, a);
  const b = run(p, 8, 20_000, PACKET_INTERVAL_MS).delays;
  assert.ok(a.filter((d, i) => d !== b[i]).length > 19_000);
});

Deno.test("the jitter sequence does not depend on the loss settings", () => {
  const p = WIFI_PROFILES["stage-ap"];
  const lossless = { ...p, loss: { random: 0, bursts_per_min: 0 } };
  const withLoss = run(p, 3, 20_000, PACKET_INTERVAL_MS).delays;
  const without = run(lossless, 3, 20_000, PACKET_INTERVAL_MS).delays;
  for (let i = 0; i < withLoss.length; i++) {
    if (withLoss[i] !== DROP) assert.equal(withLoss[i], without[i], `packet ${i}`);
  }
  assert.ok(without.every((d) => d !== DROP));
});

for (const name of Object.keys(WIFI_PROFILES) as WifiProfileName[]) {
  Deno.test(`${name}: jitter outside spikes has the spec's p50 and p99 (±3 %), the fit's p90 (±3 %), nothing over max_ms`, () => {
    const p = WIFI_PROFILES[name];
    const { jitter } = run(p, 1, N, PACKET_INTERVAL_MS);
    const fit = fitJitter(p.jitter);
    const near = (got: number, want: number, tol: number, what: string) =>
      assert.ok(Math.abs(got - want) <= tol * want, `${name} ${what}: ${got} ms, want ${want} ms`);
    near(quantile(jitter, 0.5), p.jitter.p50_ms, 0.03, "p50");
    near(quantile(jitter, 0.9), fit.p90Ms, 0.03, "p90");
    near(quantile(jitter, 0.99), p.jitter.p99_ms, 0.03, "p99");
    assert.ok(jitter[jitter.length - 1] <= p.jitter.max_ms);
    assert.ok(
      jitter[jitter.length - 1] > (p.jitter.p99_ms + p.jitter.max_ms) / 2,
      "the tail reaches toward the cut",
    );
    assert.ok(jitter[0] > 0);
  });
}

Deno.test("the fitted log-normal's p90 is within 10 % under the spec's p90 for every profile", () => {
  for (const [name, p] of Object.entries(WIFI_PROFILES)) {
    const e = fitJitter(p.jitter).p90Error;
    assert.ok(e < 0 && e > -0.1, `${name}: fit p90 off by ${(e * 100).toFixed(1)} %`);
  }
  assert.throws(
    () => fitJitter({ p50_ms: 2, p90_ms: 3, p99_ms: 1, max_ms: 5 }),
    /0 < p50 < p99 < max/,
  );
});

/** |x − mean| ≤ 4 standard deviations. */
function within4Sigma(got: number, mean: number, sd: number, what: string): void {
  assert.ok(
    Math.abs(got - mean) <= 4 * sd,
    `${what}: ${got}, expected ${mean.toFixed(1)} ± ${(4 * sd).toFixed(1)}`,
  );
}

for (const name of ["stage-ap", "crowded"] as const) {
  Deno.test(`${name}: random loss, burst count and burst lengths match the spec over 200 000 packets`, () => {
    const p = WIFI_PROFILES[name];
    const { m, delays } = run(p, 1, N, PACKET_INTERVAL_MS);
    const c = m.counters;
    const [lo, hi] = p.loss.burst_packets!;
    // Bursts: Poisson in time.
    const minutes = (N * PACKET_INTERVAL_MS) / 60_000;
    const burstMean = p.loss.bursts_per_min * minutes;
    within4Sigma(c.bursts, burstMean, Math.sqrt(burstMean), "bursts");
    assert.ok(c.bursts > 0);
    // Every burst loses lo…hi consecutive packets: the dropped runs have those lengths.
    const runs: number[] = [];
    let len = 0;
    for (const d of delays) {
      if (d === DROP) len++;
      else if (len > 0) runs.push(len), len = 0;
    }
    assert.ok(c.droppedBurst >= c.bursts * lo && c.droppedBurst <= c.bursts * hi);
    assert.ok(
      runs.filter((r) => r >= lo).length >= c.bursts - 1,
      `${runs.filter((r) => r >= lo).length} long runs, ${c.bursts} bursts`,
    );
    // Random loss: binomial over the packets outside bursts.
    const outside = N - c.droppedBurst;
    within4Sigma(
      c.droppedRandom,
      outside * p.loss.random,
      Math.sqrt(outside * p.loss.random),
      "random drops",
    );
    assert.equal(delays.filter((d) => d === DROP).length, c.droppedRandom + c.droppedBurst);
  });
}

Deno.test("clean loses nothing and has no spikes", () => {
  const { m, delays } = run(WIFI_PROFILES["clean"], 1, N, PACKET_INTERVAL_MS);
  assert.equal(delays.filter((d) => d === DROP).length, 0);
  assert.equal(m.counters.spikes + m.counters.inSpike + m.counters.bursts, 0);
  assert.ok(delays.every((d) => d > 0.5 && d <= 0.5 + 3));
});

for (const name of ["stage-ap", "crowded"] as const) {
  Deno.test(`${name}: spikes come at per_min, last span_ms and add extra_ms to every packet in them`, () => {
    const p = WIFI_PROFILES[name];
    const s = p.spikes!;
    const hours = 5, interval = 20;
    const n = (hours * 3_600_000) / interval;
    const noLoss = { ...p, loss: { random: 0, bursts_per_min: 0 } };
    const { m, spikeExtra } = run(noLoss, 2, n, interval);
    const spikesMean = s.per_min * hours * 60;
    within4Sigma(m.counters.spikes, spikesMean, Math.sqrt(spikesMean), "spikes");
    // Share of packets in spikes ≈ per_min × mean span / 1 min (spikes seldom overlap).
    const meanSpan = (s.span_ms[0] + s.span_ms[1]) / 2;
    const share = m.counters.inSpike / n, want = (s.per_min * meanSpan) / 60_000;
    assert.ok(Math.abs(share - want) <= 0.1 * want, `in-spike share ${share}, want ${want}`);
    assert.equal(spikeExtra.length, m.counters.inSpike);
    for (const e of spikeExtra) {
      assert.ok(e >= s.extra_ms[0] - 1e-9 && e <= s.extra_ms[1] + 1e-9, `extra ${e}`);
    }
    // Each spike gives one extra to all its packets: a spike of ≥ 2 packets has ≥ 2 equal extras.
    assert.ok(new Set(spikeExtra).size < spikeExtra.length);
  });
}

Deno.test("the spike log names exactly the packets that got a spike's extra, and its extra", () => {
  const p = { ...WIFI_PROFILES["crowded"], loss: { random: 0, bursts_per_min: 0 } };
  const m = new WifiImpairment(p, 9);
  let inSpike = 0;
  for (let i = 0; i < 360_000; i++) { // 30 min at 5 ms
    const t = T0 + i * PACKET_INTERVAL_MS;
    const d = m.decide(t);
    const logged = m.spikeLog.find((s) => t >= s.startMs && t < s.endMs);
    assert.equal(m.lastInSpike, logged !== undefined, `packet at ${t - T0} ms`);
    if (logged) {
      inSpike++;
      assert.ok(Math.abs(d - p.base_ms - m.lastJitterMs - logged.extraMs) < 1e-9);
    }
  }
  assert.equal(m.spikeLog.length, m.counters.spikes);
  assert.ok(m.spikeLog.length > 10 && inSpike === m.counters.inSpike);
  for (let k = 1; k < m.spikeLog.length; k++) {
    assert.ok(m.spikeLog[k].startMs > m.spikeLog[k - 1].startMs);
  }
});

Deno.test("delays are drawn per packet, so later packets overtake earlier ones", () => {
  const { delays } = run(WIFI_PROFILES["stage-ap"], 5, 10_000, BENCH_INTERVAL_MS);
  let overtaken = 0;
  for (let i = 1; i < delays.length; i++) {
    if (
      delays[i] !== DROP && delays[i - 1] !== DROP && delays[i] + BENCH_INTERVAL_MS < delays[i - 1]
    ) overtaken++;
  }
  assert.ok(overtaken > 1000, `${overtaken} of 10 000 packets overtake their predecessor`);
});

Deno.test("profiles with bursts but no burst length, or loss ≥ 1, are refused", () => {
  const p = WIFI_PROFILES["stage-ap"];
  assert.throws(
    () => new WifiImpairment({ ...p, loss: { random: 0, bursts_per_min: 1 } }, 1),
    /needs burst_packets/,
  );
  assert.throws(
    () => new WifiImpairment({ ...p, loss: { random: 1, bursts_per_min: 0 } }, 1),
    /\[0, 1\)/,
  );
});
