import assert from "node:assert/strict";
import { CONCEALED_LIMIT, LOSS_LIMIT, NetworkHealth, WINDOW_MS } from "./network_health.ts";

/** Cumulative counters per NetworkHealth, as a receiver keeps them. */
const totals = new WeakMap<NetworkHealth, { expected: number; lost: number; concealed: number }>();

/** 200 packets a second for `seconds`, losing `loss` and concealing `concealed` of them. */
function feed(h: NetworkHealth, from: number, seconds: number, loss: number, concealed: number) {
  const c = totals.get(h) ?? { expected: 0, lost: 0, concealed: 0 };
  totals.set(h, c);
  const states: string[] = [];
  for (let s = 1; s <= seconds; s++) {
    c.expected += 200;
    c.lost += 200 * loss;
    c.concealed += 200 * concealed;
    states.push(h.note({
      atMs: (from + s) * 1000,
      expected: c.expected,
      received: Math.round(c.expected - c.lost),
      concealed: Math.round(c.concealed),
    }));
  }
  return states;
}

Deno.test("network health: a stage Wi-Fi stays ok; a crowded one is unstable within seconds", () => {
  const stage = new NetworkHealth();
  assert.ok(feed(stage, 0, 60, 0.005, 0.008).every((s) => s === "ok"));
  const crowded = new NetworkHealth();
  const states = feed(crowded, 0, 10, 0.013, 0.02);
  assert.equal(states[3], "ok", "not before 5 s of data");
  assert.equal(states[9], "unstable");
  assert.ok(crowded.lossRate > LOSS_LIMIT);
});

Deno.test("network health: stalls without loss (a WebSocket) count through concealment", () => {
  const h = new NetworkHealth();
  assert.equal(feed(h, 0, 10, 0, CONCEALED_LIMIT * 2).at(-1), "unstable");
});

Deno.test("network health: back to ok only after a whole quiet window", () => {
  const h = new NetworkHealth();
  feed(h, 0, 10, 0.02, 0.02);
  assert.equal(h.state, "unstable");
  const after = feed(h, 10, 30, 0, 0);
  const firstOk = after.indexOf("ok");
  // Half a window at least: one quiet moment does not clear it.
  assert.ok(firstOk >= WINDOW_MS / 2000, `ok again after ${firstOk + 1} s`);
  assert.equal(after.at(-1), "ok");
});

Deno.test("network health: a restarted stream (counters back to zero) starts a new window", () => {
  const h = new NetworkHealth();
  feed(h, 0, 10, 0, 0);
  h.note({ atMs: 11_000, expected: 10, received: 10, concealed: 0 });
  assert.ok(Number.isNaN(h.lossRate));
  assert.equal(h.state, "ok");
});

Deno.test("network health: a complete stop after a clean stream is not the Wi-Fi's (liveness says No audio)", () => {
  const h = new NetworkHealth();
  feed(h, 0, 10, 0, 0);
  // The box stops sending: no packet arrives, the jitter buffer conceals every slot.
  const c = totals.get(h)!;
  for (let s = 11; s <= 30; s++) {
    c.concealed += 200;
    h.note({
      atMs: s * 1000,
      expected: c.expected,
      received: Math.round(c.expected - c.lost),
      concealed: Math.round(c.concealed),
    });
  }
  assert.equal(h.state, "ok");
  // Packets flowing with the same concealment is the network's.
  assert.equal(feed(h, 30, 10, 0, CONCEALED_LIMIT * 2).at(-1), "unstable");
});

Deno.test("network health: a handful of packets with start-up concealment says nothing yet", () => {
  const h = new NetworkHealth();
  // 16 packets over 6 s (a stream that just started, then stopped), 5 slots concealed meanwhile.
  h.note({ atMs: 0, expected: 0, received: 0, concealed: 0 });
  h.note({ atMs: 3000, expected: 8, received: 8, concealed: 3 });
  h.note({ atMs: 6000, expected: 16, received: 16, concealed: 5 });
  assert.equal(h.state, "ok");
  assert.ok(Number.isNaN(h.concealedRate));
});
