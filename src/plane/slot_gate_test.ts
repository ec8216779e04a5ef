import assert from "node:assert/strict";
import {
  GATE_BUSY,
  GATE_STOPPED,
  GATE_STOPPING,
  gateBytes,
  GateControl,
  GateWorker,
} from "./slot_gate.ts";

/**
 * A worker that plays the audio plane's period: pass the gate, tell the main
 * thread it is mid-period, take 40 ms "sending" (the main thread stops the
 * client meanwhile), count the packet, release. Then it keeps running periods.
 */
const WORKER = `
import { GateWorker } from ${JSON.stringify(new URL("./slot_gate.ts", import.meta.url).href)};
self.onmessage = (e) => {
  const { gates, shared } = e.data;
  const gate = new GateWorker(gates);
  const s = new Int32Array(shared); // [0] mid-period flag, [1] packets sent, [2] periods, [3] quit
  gate.open(0);
  while (Atomics.load(s, 3) === 0) {
    if (gate.acquire(0)) {
      Atomics.store(s, 0, 1);
      Atomics.notify(s, 0);
      Atomics.wait(s, 3, 0, 40);
      Atomics.add(s, 1, 1);
      gate.release(0);
    }
    Atomics.add(s, 2, 1);
    Atomics.wait(s, 3, 0, 2);
  }
  self.postMessage("done");
};
`;

Deno.test("a client stopped while the worker is mid-period gets nothing after the stop, and its count is final", async () => {
  const gates = new SharedArrayBuffer(gateBytes(4));
  const shared = new SharedArrayBuffer(16);
  const s = new Int32Array(shared);
  const control = new GateControl(gates);
  control.pending(0);
  const url = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  const done = new Promise((r) => (w.onmessage = r));
  try {
    w.postMessage({ gates, shared });
    // Wait (async: this thread must stay free to be told) until the worker is mid-period.
    while (Atomics.load(s, 0) === 0) await Atomics.waitAsync(s, 0, 0, 1000).value;
    assert.ok(control.stop(0), "the worker let go within the timeout");
    const sent = Atomics.load(s, 1);
    assert.ok(sent >= 1, "the period that was running when the stop came is counted");
    // Many periods later, nothing more was sent.
    const periods = Atomics.load(s, 2);
    while (Atomics.load(s, 2) < periods + 10) await new Promise((r) => setTimeout(r, 5));
    assert.equal(Atomics.load(s, 1), sent, "no packet after stop() returned");
    assert.equal(Atomics.load(new Int32Array(gates), 0), GATE_STOPPED);
  } finally {
    Atomics.store(s, 3, 1);
    Atomics.notify(s, 3);
    await done;
    w.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("a slot reused by a new client stays shut to the previous one until the worker reads the add", () => {
  const gates = new SharedArrayBuffer(gateBytes(2));
  const control = new GateControl(gates);
  const worker = new GateWorker(gates);
  control.pending(1);
  assert.equal(worker.acquire(1), false, "not before the worker read the add");
  worker.open(1);
  assert.equal(worker.acquire(1), true);
  worker.release(1);
  // Client A leaves, client B gets slot 1 before the worker read A's remove.
  assert.ok(control.stop(1));
  control.pending(1);
  assert.equal(
    worker.acquire(1),
    false,
    "A (still in the worker's engine) cannot send in B's slot",
  );
  worker.open(1); // B's add
  assert.equal(worker.acquire(1), true);
  worker.release(1);
});

Deno.test("a client stopped before the worker read its add never opens", () => {
  const gates = new SharedArrayBuffer(gateBytes(1));
  const control = new GateControl(gates);
  const worker = new GateWorker(gates);
  control.pending(0);
  assert.ok(control.stop(0));
  worker.open(0);
  assert.equal(worker.acquire(0), false);
});

Deno.test("a worker that holds a slot past the timeout: stop says so, and the later release still ends it", () => {
  const gates = new SharedArrayBuffer(gateBytes(1));
  const g = new Int32Array(gates);
  const control = new GateControl(gates);
  const worker = new GateWorker(gates);
  control.pending(0);
  worker.open(0);
  assert.equal(worker.acquire(0), true);
  assert.equal(Atomics.load(g, 0), GATE_BUSY);
  let t = 0;
  // The clock is injected: each look at it is 10 ms later, so the wait gives up without sleeping long.
  assert.equal(control.stop(0, 20, () => (t += 10)), false);
  assert.equal(Atomics.load(g, 0), GATE_STOPPING);
  worker.release(0);
  assert.equal(Atomics.load(g, 0), GATE_STOPPED);
  assert.equal(worker.acquire(0), false);
});
