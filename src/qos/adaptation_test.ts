import assert from "node:assert/strict";
import type { AdaptationConfig } from "../config/types.ts";
import { ManualClock } from "../util/clock.ts";
import {
  AdaptationPolicy,
  type AdaptationTiming,
  CEILING_FORGET_MS,
  type Evaluation,
  LOSS_THRESHOLD,
  MIN_STEP_INTERVAL_MS,
  type QosSample,
  SERVER_WARNING_INTERVAL_MS,
  STARTUP_GRACE_MS,
  type Step,
  type StreamingClient,
  WARNING_INTERVAL_MS,
} from "./adaptation.ts";

const CFG: AdaptationConfig = { enabled: true, latency_ms: 50, hold_s: 10, recover_hold_s: 60 };

interface SimClient {
  id: string;
  session: StreamingClient;
  sessions: number;
}

/**
 * A policy, a clock and simulated clients that behave like the session
 * manager and the reference client: a step ends the stepped sessions and each
 * client reconnects at once under a new id, at the rate it is now given
 * (the stored rate, or its address's ceiling when lower).
 */
class Rig {
  readonly clock = new ManualClock();
  readonly policy: AdaptationPolicy;
  rate = 48000;
  native = 48000;
  config: AdaptationConfig = { ...CFG };
  canProduce = (_r: number) => true;
  readonly clients = new Map<string, SimClient>();
  private counts = new Map<string, { received: number; expected: number }>();
  readonly steps: { at: number; s: Step }[] = [];
  private readonly t0 = this.clock.now();

  constructor(names: string[] = ["a"], timing: Partial<AdaptationTiming> = {}) {
    this.policy = new AdaptationPolicy(this.clock, timing);
    // Sessions established well before the test starts: past their start-up grace.
    for (const n of names) this.join(n, this.clock.now() - 60_000);
  }

  /** Seconds since the rig started. */
  get t(): number {
    return (this.clock.now() - this.t0) / 1000;
  }

  join(name: string, since = this.clock.now(), address = `10.0.0.${this.clients.size + 1}`) {
    const prev = this.clients.get(name);
    const addr = prev?.session.address ?? address;
    const n = (prev?.sessions ?? 0) + 1;
    const ceiling = this.policy.ceiling(addr) ?? Infinity;
    this.clients.set(name, {
      id: `${name}#${n}`,
      session: { address: addr, since, rate: Math.min(this.rate, ceiling) },
      sessions: n,
    });
  }

  leave(name: string) {
    this.clients.delete(name);
  }

  id(name: string): string {
    return this.clients.get(name)!.id;
  }

  sample(name: string, latency: number, lossRate = 0, jitter = 1): QosSample {
    const c = this.counts.get(name) ?? { received: 0, expected: 0 };
    const expected = c.expected + 1000;
    const received = c.received + Math.round(1000 * (1 - lossRate));
    this.counts.set(name, { received, expected });
    return {
      packets_received: received,
      packets_expected: expected,
      packet_loss_rate: 1 - received / expected,
      jitter_ms: jitter,
      latency_ms: latency,
    };
  }

  report(name: string, latency: number, lossRate = 0) {
    const c = this.clients.get(name)!;
    const w = this.policy.report(
      c.id,
      this.sample(name, latency, lossRate),
      this.config,
      c.session.since,
    );
    this.evaluate();
    return w;
  }

  evaluate(): Evaluation {
    const streaming = new Map([...this.clients.values()].map((c) => [c.id, c.session]));
    const ev = this.policy.evaluate({
      config: this.config,
      currentRate: this.rate,
      nativeRate: this.native,
      streaming,
      canProduce: this.canProduce,
    });
    for (const s of ev.steps) {
      this.steps.push({ at: this.t, s });
      if (s.scope === "global") {
        this.rate = s.newRate;
        for (const name of this.clients.keys()) this.join(name);
      } else {
        const name = [...this.clients].find(([, c]) => c.id === s.clientId)![0];
        this.join(name);
      }
    }
    return ev;
  }

  /** Advances `seconds` in 1 s ticks; every `every` s (from the first tick) `each` runs. */
  run(seconds: number, each?: () => void, every = 5): void {
    for (let i = 0; i < seconds; i++) {
      this.clock.advance(1000);
      if (each && Math.round(this.t) % every === 0) each();
      else this.evaluate();
    }
  }

  server(p99: number, p50 = 5, errors = 0) {
    return this.policy.observeServer(
      { captureToWireP50Ms: p50, captureToWireP99Ms: p99, packetsSent: 0, sendErrors: errors },
      this.config,
    );
  }

  rateOf(name: string): number {
    return this.clients.get(name)!.session.rate;
  }
}

const minGap = (steps: { at: number }[]) =>
  Math.min(...steps.slice(1).map((s, i) => s.at - steps[i].at));

Deno.test("one client alone: steps everyone 48000 → 44100 after hold_s of high latency, and not before", () => {
  const r = new Rig();
  r.report("a", 120);
  r.run(9, () => r.report("a", 120));
  assert.equal(r.steps.length, 0, "held only 9 s");
  r.run(1, () => r.report("a", 120));
  assert.equal(r.steps.length, 1);
  const { at, s } = r.steps[0];
  assert.equal(at, 10);
  assert.equal(s.scope, "global", "1 of 1 clients is a majority");
  assert.equal(s.action, "down");
  assert.equal(s.newRate, 44100);
  assert.match(s.reason, /^latency too high, lowering sample rate/);
  assert.match(s.reason, /120 ms over the 50 ms threshold for 10 s \(1 of 1 client/);
  assert.match(s.reason, /48000 → 44100 Hz/);
  assert.equal(s.figures.latency_ms, 120);
  assert.equal(s.figures.clients, 1);
});

Deno.test("one bad client never moves the others: only its own session steps, the others keep rate and session", () => {
  const r = new Rig(["bad", "b", "c", "d"]);
  const others = ["b", "c", "d"].map((n) => r.id(n));
  const all = () => {
    r.report("bad", 300);
    for (const n of ["b", "c", "d"]) r.report(n, 12);
  };
  all();
  r.run(10, all);
  assert.equal(r.steps.length, 1);
  const { s } = r.steps[0];
  assert.equal(s.scope, "client");
  assert.equal(s.clientId, "bad#1");
  assert.equal(s.address, "10.0.0.1");
  assert.equal(s.newRate, 44100);
  assert.equal(s.ceiling, 44100);
  assert.match(s.reason, /^latency too high, lowering this client's sample rate/);
  assert.match(s.reason, /its latency 300 ms over the 50 ms threshold for 10 s/);
  assert.equal(r.rateOf("bad"), 44100, "its next session is given the lower rate");
  // It stays bad: one more rung for it alone, no sooner than the minimum spacing.
  r.run(30 * 60, all);
  assert.deepEqual(r.steps.map((x) => [x.s.scope, x.s.newRate]), [
    ["client", 44100],
    ["client", 32000],
    ["client", 24000],
  ]);
  assert.ok(minGap(r.steps) >= MIN_STEP_INTERVAL_MS / 1000, `gap ${minGap(r.steps)} s`);
  assert.ok(r.steps.every((x) => x.s.clientId?.startsWith("bad#")));
  assert.equal(r.rate, 48000, "the stored rate never moved");
  assert.deepEqual(["b", "c", "d"].map((n) => r.id(n)), others, "their sessions never ended");
  assert.deepEqual(["b", "c", "d"].map((n) => r.rateOf(n)), [48000, 48000, 48000]);
});

Deno.test("seeded: one client on bad Wi-Fi among 7 fine ones for an hour never moves the others", () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const names = ["bad", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
  const r = new Rig(names);
  const fine = names.slice(1);
  const ids = fine.map((n) => r.id(n));
  r.run(3600, () => {
    for (const n of names) {
      if (n === "bad") r.report(n, 60 + rand() * 400, rand() * 0.3);
      // Fine clients: 5–30 ms, now and then a single spike over the threshold.
      else r.report(n, rand() < 0.03 ? 80 + rand() * 900 : 5 + rand() * 25, rand() * 0.005);
    }
  });
  assert.ok(r.steps.length >= 1, "the bad one was stepped");
  assert.ok(r.steps.every((x) => x.s.scope === "client" && x.s.clientId!.startsWith("bad#")));
  assert.equal(r.rate, 48000);
  assert.deepEqual(fine.map((n) => r.id(n)), ids);
});

Deno.test("most clients suffering for hold_s steps everyone; half of them does not", () => {
  const r = new Rig(["a", "b", "c", "d"]);
  const all = (lat: number[]) => () => ["a", "b", "c", "d"].forEach((n, i) => r.report(n, lat[i]));
  all([300, 200, 10, 10])();
  r.run(9, all([300, 200, 10, 10]));
  assert.equal(r.steps.length, 0);
  r.run(1, all([300, 200, 10, 10]));
  assert.deepEqual(r.steps.map((x) => x.s.scope), ["client", "client"], "2 of 4 is no majority");
  assert.equal(r.rate, 48000);

  const m = new Rig(["a", "b", "c"]);
  const three = () => ["a", "b", "c"].forEach((n, i) => m.report(n, [300, 200, 10][i]));
  three();
  m.run(10, three);
  assert.equal(m.steps.length, 1);
  assert.equal(m.steps[0].s.scope, "global", "2 of 3 is a majority");
  assert.equal(m.steps[0].s.newRate, 44100);
  assert.match(m.steps[0].s.reason, /\(2 of 3 client\(s\)\)/);
  assert.equal(m.rate, 44100);
});

Deno.test("a session's start-up seconds are ignored: a 938 ms first reading neither warns nor holds", () => {
  const r = new Rig([]);
  r.config.hold_s = 2;
  r.join("a");
  assert.equal(r.report("a", 938), null, "no warning during the grace");
  r.run(9, () => r.report("a", 938), 1);
  assert.equal(r.steps.length, 0, "9 s of start-up readings");
  r.run(30, () => r.report("a", 12), 1);
  assert.equal(r.steps.length, 0);
  // The same readings after the grace do step: it is the grace that ignored them.
  r.run(4, () => r.report("a", 938), 1);
  assert.equal(r.steps.length, 1);
  assert.ok(STARTUP_GRACE_MS >= 10_000);
});

Deno.test("the server's own stall never steps: a warning once a minute, and its share of the clients' latency is not held against them", () => {
  const r = new Rig(["a", "b"]);
  const warnings: string[] = [];
  for (let i = 0; i < 600; i++) {
    r.clock.advance(1000);
    const w = r.server(80, 45); // a busy server: 45 ms typical, 80 ms p99 capture → wire
    if (w) warnings.push(w.reason);
    if (i % 5 === 0) {
      r.report("a", 90); // the clients see the server's 45 ms too
      r.report("b", 90);
    } else r.evaluate();
  }
  assert.equal(r.steps.length, 0);
  assert.equal(warnings.length, 600_000 / SERVER_WARNING_INTERVAL_MS);
  assert.match(warnings[0], /^server stall: capture-to-wire p99 80 ms/);
  assert.match(warnings[0], /the sample rate stays/);
  // The server is quick again; the same client latency is now the network's.
  r.run(11, () => {
    r.server(8, 5);
    r.report("a", 90);
    r.report("b", 90);
  }, 1);
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].s.scope, "global");

  // Stalls with fine clients: never a step, in 10 minutes of stalls.
  const q = new Rig(["a"]);
  q.run(600, () => {
    q.server(120, 6);
    q.report("a", 15);
  }, 1);
  assert.equal(q.steps.length, 0);
});

Deno.test("no step up while the server stalls: raising the rate would only add work", () => {
  const r = new Rig();
  r.rate = 32000;
  r.join("a", r.clock.now() - 60_000);
  r.run(120, () => {
    r.server(80, 5);
    r.report("a", 10);
  }, 1);
  assert.equal(r.steps.length, 0);
  r.run(61, () => {
    r.server(8, 5);
    r.report("a", 10);
  }, 1);
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].s.action, "up");
});

Deno.test("at most one step per MIN_STEP_INTERVAL_MS, globally and per client", () => {
  const r = new Rig(["a"]);
  r.report("a", 300);
  r.run(20 * 60, () => r.report("a", 300));
  assert.deepEqual(r.steps.map((s) => s.s.newRate), [44100, 32000, 24000]);
  assert.equal(minGap(r.steps), MIN_STEP_INTERVAL_MS / 1000);
  assert.equal(MIN_STEP_INTERVAL_MS, 180_000);

  // 48 → 44.1 → 32 → 44.1 → 48 kHz within 6 minutes is no longer possible.
  const f = new Rig(["a"]);
  f.config.recover_hold_s = 10;
  f.report("a", 300);
  f.run(30, () => f.report("a", 300));
  f.run(10 * 60, () => f.report("a", 5));
  assert.deepEqual(f.steps.map((s) => [s.at, s.s.newRate]), [[10, 44100], [190, 48000]]);
});

Deno.test("steps up one rate after recover_hold_s of good quality, and not before", () => {
  const r = new Rig();
  r.rate = 32000;
  r.join("a", r.clock.now() - 60_000);
  r.report("a", 10);
  r.run(59, () => r.report("a", 10));
  assert.equal(r.steps.length, 0);
  r.run(1, () => r.report("a", 10));
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].s.action, "up");
  assert.equal(r.steps[0].s.newRate, 44100);
  assert.match(r.steps[0].s.reason, /^network quality good, raising sample rate/);
  assert.match(r.steps[0].s.reason, /32000 → 44100 Hz/);
});

Deno.test("a lowered client that is fine again steps back up on its own, and its ceiling goes at the stored rate", () => {
  const r = new Rig(["bad", "b", "c"]);
  const all = (bad: number) => () => {
    r.report("bad", bad);
    r.report("b", 10);
    r.report("c", 10);
  };
  all(300)();
  r.run(10, all(300));
  assert.equal(r.policy.ceiling("10.0.0.1"), 44100);
  r.run(170, all(10)); // fine for recover_hold_s, but the spacing holds it until t=190
  assert.equal(r.steps.length, 1);
  r.run(10, all(10));
  assert.equal(r.steps.length, 2);
  const up = r.steps[1].s;
  assert.deepEqual([up.scope, up.action, up.newRate, up.ceiling], ["client", "up", 48000, null]);
  assert.match(up.reason, /^network quality good, raising this client's sample rate/);
  assert.equal(r.policy.ceiling("10.0.0.1"), undefined);
  assert.equal(r.rateOf("bad"), 48000);
});

Deno.test("a client address's ceiling is forgotten CEILING_FORGET_MS after its last session", () => {
  const r = new Rig(["bad", "b", "c"]);
  const all = () => {
    r.report("bad", 300);
    r.report("b", 10);
    r.report("c", 10);
  };
  all();
  r.run(10, all);
  r.leave("bad");
  let released: string[] = [];
  for (let t = 0; t <= CEILING_FORGET_MS / 1000 && released.length === 0; t++) {
    r.clock.advance(1000);
    released = r.evaluate().released;
  }
  assert.deepEqual(released, ["10.0.0.1"]);
  assert.equal(r.policy.ceiling("10.0.0.1"), undefined);
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
  assert.match(low.evaluate().status, /lowest rate 24000 Hz/);

  const top = new Rig();
  top.native = top.rate = 44100;
  top.report("a", 5);
  top.run(200, () => top.report("a", 5));
  assert.equal(top.steps.length, 0, "44100 is native: nothing above it");

  const down = new Rig();
  down.native = down.rate = 44100;
  down.report("a", 300);
  down.run(600, () => down.report("a", 300));
  assert.deepEqual(down.steps.map((s) => s.s.newRate), [32000, 24000]);
});

Deno.test("without a resampler only the native rate is possible: no step", () => {
  const r = new Rig(["a", "b", "c"]);
  r.canProduce = () => false;
  r.report("a", 300);
  r.run(60, () => ["a", "b", "c"].forEach((n, i) => r.report(n, i === 0 ? 300 : 10)));
  r.run(60, () => ["a", "b", "c"].forEach((n) => r.report(n, 300)));
  assert.equal(r.steps.length, 0);
});

Deno.test("disabled adaptation never steps", () => {
  const r = new Rig();
  r.config.enabled = false;
  r.report("a", 300, 0.5);
  r.run(120, () => r.report("a", 300, 0.5));
  assert.equal(r.steps.length, 0);
  assert.equal(r.evaluate().status, "adaptation disabled");
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
  assert.equal(r.evaluate().status, "no fresh client reports");
});

Deno.test("a stale client does not count among the considered ones", () => {
  const r = new Rig(["a", "b", "c"]);
  r.report("b", 5);
  r.report("c", 5);
  r.report("a", 200);
  // b and c report once only; a keeps reporting high latency.
  r.run(21, () => r.report("a", 200));
  assert.equal(r.steps.length, 1);
  assert.equal(r.steps[0].at, 10, "a alone suffers at t=10: a client step");
  assert.equal(r.steps[0].s.scope, "client");
});

Deno.test("reports from clients that are not streaming are ignored", () => {
  const r = new Rig(["a"]);
  r.report("a", 10);
  r.run(30, () => {
    r.report("a", 10);
    r.policy.report("ghost", r.sample("ghost", 500), r.config, 0);
    r.evaluate();
  });
  assert.equal(r.steps.length, 0);
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
  assert.equal(r.steps[0].s.newRate, 24000);
});

Deno.test("sustained loss above 5 % steps down; loss is measured over each report interval", () => {
  const r = new Rig();
  r.report("a", 10, 0.1);
  r.run(10, () => r.report("a", 10, 0.1));
  assert.equal(r.steps.length, 1);
  assert.match(r.steps[0].s.reason, /^packet loss too high, lowering sample rate/);
  assert.match(r.steps[0].s.reason, /10\.0 % over the 5\.0 % threshold/);

  // Lifetime loss stays high after a burst, but the intervals since are clean.
  const q = new Rig();
  q.report("a", 10, 0.5);
  q.run(60, () => q.report("a", 10, 0));
  assert.equal(q.steps.length, 0);
  assert.equal(LOSS_THRESHOLD, 0.05);
});

Deno.test("network_warning goes to a client over a threshold, at most once per 10 s", () => {
  const r = new Rig(["a", "b"]);
  r.config.hold_s = 60; // no step in the way
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
