import assert from "node:assert/strict";
import {
  closeSpareWorkers,
  isSpareWarmUp,
  keepSpareWorkers,
  registerWorkerKind,
  replenishSpareWorkers,
  SPARE_WARM_UP,
  spareWorkerKinds,
  spawnWorker,
} from "./spare_workers.ts";

/** Stands in for a Worker: records what it is sent and whether it was ended. */
class FakeWorker {
  static made: FakeWorker[] = [];
  posted: unknown[] = [];
  terminated = false;
  constructor() {
    FakeWorker.made.push(this);
  }
  postMessage(m: unknown): void {
    this.posted.push(m);
  }
  terminate(): void {
    this.terminated = true;
  }
}

const fake = () => new FakeWorker() as unknown as Worker;

Deno.test("spares: none kept by default; kept, a start takes the warmed spare and a stop-time replenish makes the next", () => {
  FakeWorker.made = [];
  registerWorkerKind("test-kind", fake);
  try {
    replenishSpareWorkers();
    assert.equal(FakeWorker.made.length, 0, "no spares unless this thread keeps them");
    const plain = spawnWorker("test-kind") as unknown as FakeWorker;
    assert.deepEqual(plain.posted, [], "a worker started on demand gets no warm-up");

    keepSpareWorkers();
    replenishSpareWorkers();
    assert.ok(spareWorkerKinds().includes("test-kind"));
    const spare = FakeWorker.made.at(-1)!;
    assert.deepEqual(spare.posted, [SPARE_WARM_UP], "a spare is sent the warm-up at once");
    assert.ok(isSpareWarmUp(spare.posted[0]));
    assert.ok(!isSpareWarmUp({ device: "hw:M32" }), "a real request is not a warm-up");

    const made = FakeWorker.made.length;
    assert.equal(spawnWorker("test-kind"), spare as unknown as Worker, "the start takes the spare");
    assert.equal(FakeWorker.made.length, made, "and starts nothing while audio may flow");
    assert.ok(!spareWorkerKinds().includes("test-kind"));
    replenishSpareWorkers();
    const next = FakeWorker.made.at(-1)!;
    assert.notEqual(next, spare);

    closeSpareWorkers();
    assert.ok(next.terminated, "close ends the spares");
    replenishSpareWorkers();
    assert.equal(FakeWorker.made.at(-1), next, "and keeps none after");
  } finally {
    closeSpareWorkers();
  }
});

Deno.test("spawnWorker names a kind nobody registered", () => {
  assert.throws(() => spawnWorker("no-such-kind"), /no worker kind "no-such-kind"/);
});
