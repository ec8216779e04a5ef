import assert from "node:assert/strict";
import type { AdaptationConfig } from "../config/types.ts";
import { ManualClock } from "../util/clock.ts";
import {
  AdaptationPolicy,
  type Decision,
  LOSS_THRESHOLD,
  type QosSample,
  WARNING_INTERVAL_MS,
} from "./adaptation.ts";

const CFG: AdaptationConfig = { enabled: true, latency_ms: 50, hold_s: 10, recover_hold_s: 60 };

/** A policy, a clock and simulated clients with cumulative packet counters. */
class Rig {
  readonly clock = new ManualClock();
  readonly policy = new AdaptationPolicy(this.clock);
  rate = 48000;
  native = 48000;
  config: AdaptationConfig = { ...CFG };
  streaming = new Set<string>(["a"]);
  canProduce = (_r: number) => true;
  private counts = new Map<string, { received: number; expected: number }>();
  readonly steps: { at: number; d: Decision }[] = [];
  private readonly t0 = this.clock.now();

  /** Seconds since the rig started. */
  get t(): number {
    return (this.clock.now() - this.t0) / 1000;
  }

  sample(id: string, latency: number, lossRate = 0, jitter = 1): QosSample {
    const c = this.counts.get(id) ?? { received: 0, expected: 0 };
    const expected = c.expected + 1000;
    const received = c.received + Math.round(1000 * (1 - lossRate));
    this.counts.set(id, { received, expected });
    return {
      packets_received: received,
      packets_expected: expected,
      packet_loss_rate: 1 - received / expected,
      jitter_ms: jitter,
      latency_ms: latency,
    };
  }

  report(id: string, latency: number, lossRate = 0) {
    const w = this.policy.report(id, this.sample(id, latency, lossRate), this.config);
    this.evaluate();
    return w;
  }

  evaluate(): Decision {
    const d = this.policy.evaluate({
      config: this.config,
      currentRate: this.rate,
      nativeRate: this.native,
      streaming: this.streaming,
      canProduce: this.canProduce,
    });
    if (d.action !== "none") {
      this.steps.push({ at: this.t, d });
      this.rate = d.newRate;
    }
    return d;
  }

  /** Advances `seconds` in 1 s ticks; every `every` s (from the first tick) `each` runs. */
  run(seconds: number, each?: () => void, every = 5): void {
    for (let i = 0; i < seconds; i++) {
      this.clock.advance(1000);
      if (each && Math.round(this.t) % every === 0) each();
      else this.evaluate();
    }
  }
}

Deno.test("steps 48000 → 44100 after hold_s of high latency, and not before", () => {
  const r = new Rig();
  r.report("a", 120);
  r.run(9, () => r.report("a", 120));
  assert.equal(r.steps.length, 0, "held only 9 s");
  r.run(1, () => r.report("a", 120));
  assert.equal(r.steps.length, 1);
  const { at, d } = r.steps[0];
  assert.equal(at, 10);
  assert.equal(d.action, "down");
  assert.equal(d.newRate, 44100);
  assert.match(d.reason, /^latency too high, lowering sample rate/);
  assert.match(d.reason, /120 ms over the 50 ms threshold for 10 s/);
  assert.match(d.reason, /48000 → 44100 Hz/);
  assert.equal(d.figures?.latency_ms, 120);
  assert.equal(d.figures?.clients, 1);
});

Deno.test("a single latency spike never steps, even with a hold shorter than the report interval", () => {
  const r = new Rig();
  r.config.hold_s = 2;
  r.report("a", 10);
  r.run(5, () => r.report("a", 500)); // the spike at t=5
  r.run(4); // ticks alone are no new evidence
  assert.equal(r.steps.length, 0);
  r.run(30, () => r.report("a", 10));
  assert.equal(r.steps.length, 0);
});

Deno.test("steps up one rate after recover_hold_s of good quality, and not before", () => {
  const r = new Rig();
  r.rate = 32000;
  r.report("a", 10);
  r.run(59, () => r.report("a", 10));
  assert.equal(r.steps.length, 0);
  r.run(1, () => r.report("a", 10));
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].d.action, "up");
  assert.equal(r.steps[0].d.newRate, 44100);
  assert.match(r.steps[0].d.reason, /^network quality good, raising sample rate/);
  assert.match(r.steps[0].d.reason, /32000 → 44100 Hz/);
});

Deno.test("latency between 0.7 × threshold and the threshold neither steps down nor up", () => {
  const r = new Rig();
  r.rate = 44100;
  r.report("a", 40);
  r.run(200, () => r.report("a", 40));
  assert.equal(r.steps.length, 0);
});

Deno.test("never steps below 24000 nor above the native rate", () => {
  const low = new Rig();
  low.rate = 24000;
  low.report("a", 300);
  low.run(100, () => low.report("a", 300));
  assert.equal(low.steps.length, 0);
  assert.match(low.evaluate().reason, /lowest rate 24000 Hz/);

  const top = new Rig();
  top.native = top.rate = 44100;
  top.report("a", 5);
  top.run(200, () => top.report("a", 5));
  assert.equal(top.steps.length, 0, "44100 is native: nothing above it");

  const down = new Rig();
  down.native = down.rate = 44100;
  down.report("a", 300);
  down.run(100, () => down.report("a", 300));
  assert.deepEqual(down.steps.map((s) => s.d.newRate), [32000, 24000]);
});

Deno.test("without a resampler only the native rate is possible: no step", () => {
  const r = new Rig();
  r.canProduce = () => false;
  r.report("a", 300);
  r.run(60, () => r.report("a", 300));
  assert.equal(r.steps.length, 0);
});

Deno.test("disabled adaptation never steps", () => {
  const r = new Rig();
  r.config.enabled = false;
  r.report("a", 300, 0.5);
  r.run(120, () => r.report("a", 300, 0.5));
  assert.equal(r.steps.length, 0);
  assert.equal(r.evaluate().reason, "adaptation disabled");
  r.config.enabled = true; // holds start from zero when enabled again
  r.run(9, () => r.report("a", 300));
  assert.equal(r.steps.length, 0);
  r.run(10, () => r.report("a", 300));
  assert.equal(r.steps.length, 1);
});

Deno.test("stale reports (older than 2 report intervals) are ignored", () => {
  const r = new Rig();
  r.config.hold_s = 20;
  r.report("a", 200);
  r.run(5, () => r.report("a", 200)); // t=5: second report, then the client goes quiet
  r.run(25);
  assert.equal(r.steps.length, 0, "a client silent for over 10 s does not hold the rate down");
  assert.equal(r.evaluate().reason, "no fresh client reports");
});

Deno.test("a stale client's last report does not count in the median", () => {
  const r = new Rig();
  r.streaming = new Set(["a", "b", "c"]);
  r.report("b", 5);
  r.report("c", 5);
  r.report("a", 200);
  // b and c report once only; a keeps reporting high latency.
  r.run(21, () => r.report("a", 200));
  assert.equal(r.steps.length, 1, "after b and c went stale (t=11) the median is a's latency");
  assert.equal(r.steps[0].at, 21);
});

Deno.test("reports from clients that are not streaming are ignored", () => {
  const r = new Rig();
  r.streaming = new Set(["a"]);
  r.report("a", 10);
  r.run(30, () => {
    r.report("a", 10);
    r.report("ghost", 500);
  });
  assert.equal(r.steps.length, 0);
});

Deno.test("the median client decides: one bad client of three does not step, two do", () => {
  const r = new Rig();
  r.streaming = new Set(["a", "b", "c"]);
  const all = (a: number, b: number, c: number) => () => {
    r.report("a", a);
    r.report("b", b);
    r.report("c", c);
  };
  all(300, 10, 20)();
  r.run(60, all(300, 10, 20));
  assert.equal(r.steps.length, 0);
  r.run(15, all(300, 200, 20));
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].at, 75);
  assert.equal(r.steps[0].d.newRate, 44100);
});

Deno.test("holds restart after a step: reports from before it don't count", () => {
  const r = new Rig();
  r.report("a", 120);
  r.run(10, () => r.report("a", 120));
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].at, 10);
  // The client reconnects under a new id after config_changed.
  r.streaming = new Set(["a2"]);
  r.run(10, () => r.report("a2", 120)); // t=15 first new report, t=20 second
  assert.equal(r.steps.length, 1, "the new hold began at t=15");
  r.run(5, () => r.report("a2", 120));
  assert.equal(r.steps.length, 2);
  assert.equal(r.steps[1].at, 25);
  assert.equal(r.steps[1].d.newRate, 32000);
});

Deno.test("a rate change from elsewhere (admin edit) restarts the holds", () => {
  const r = new Rig();
  r.report("a", 120);
  r.run(5, () => r.report("a", 120));
  r.rate = 32000;
  r.run(5, () => r.report("a", 120)); // t=10 would have stepped without the edit
  assert.equal(r.steps.length, 0);
  r.run(10, () => r.report("a", 120));
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].d.newRate, 24000);
});

Deno.test("sustained loss above 5 % steps down; loss is measured over each report interval", () => {
  const r = new Rig();
  r.report("a", 10, 0.1);
  r.run(10, () => r.report("a", 10, 0.1));
  assert.equal(r.steps.length, 1);
  assert.match(r.steps[0].d.reason, /^packet loss too high, lowering sample rate/);
  assert.match(r.steps[0].d.reason, /10\.0 % over the 5\.0 % threshold/);

  // Lifetime loss stays high after a burst, but the intervals since are clean.
  const q = new Rig();
  q.report("a", 10, 0.5);
  q.run(60, () => q.report("a", 10, 0));
  assert.equal(q.steps.length, 0);
  assert.equal(LOSS_THRESHOLD, 0.05);
});

Deno.test("the server's own capture-to-wire p99 over the threshold steps down", () => {
  const r = new Rig();
  const view = (p99: number) =>
    r.policy.observeServer({ captureToWireP99Ms: p99, packetsSent: 0, sendErrors: 0 }, r.config);
  r.report("a", 10);
  for (let i = 0; i < 11; i++) {
    r.clock.advance(1000);
    view(80);
    r.evaluate();
  }
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].at, 11, "bad from the first view (t=1) for hold_s");
  assert.match(r.steps[0].d.reason, /^server latency too high, lowering sample rate/);

  // Nobody streaming: the server's view (stale window) never steps.
  const idle = new Rig();
  idle.streaming = new Set();
  for (let i = 0; i < 30; i++) {
    idle.clock.advance(1000);
    idle.policy.observeServer({ captureToWireP99Ms: 80, packetsSent: 0, sendErrors: 0 }, CFG);
    idle.evaluate();
  }
  assert.equal(idle.steps.length, 0);
});

Deno.test("network_warning goes to a client over a threshold, at most once per 10 s", () => {
  const r = new Rig();
  assert.equal(r.report("a", 10), null);
  const w = r.report("a", 120);
  assert.ok(w);
  assert.equal(w.type, "network_warning");
  assert.equal(w.latency_ms, 120);
  assert.equal(w.latency_threshold_ms, 50);
  assert.match(w.reason, /latency 120 ms is over the 50 ms threshold/);
  r.clock.advance(WARNING_INTERVAL_MS - 1);
  assert.equal(r.report("a", 120), null, "rate-limited");
  r.clock.advance(1);
  const loss = r.report("a", 10, 0.2);
  assert.ok(loss);
  assert.equal(loss.packet_loss_rate, 0.2);
  assert.match(loss.reason, /packet loss 20\.0 % is over the 5\.0 % threshold/);
  assert.ok(r.report("b", 300), "limits are per client");
});
