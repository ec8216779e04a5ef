import assert from "node:assert/strict";
import { benchSenders, formatTable } from "./sender_bench.ts";

Deno.test("benchSenders measures both sender kinds over every packet it sends", async () => {
  const results = await benchSenders({ packets: 2000, warmupPackets: 100, destinations: 4 });
  assert.deepEqual(results.map((r) => r.kind), ["sendmmsg", "deno"]);
  for (const r of results) {
    assert.equal(r.packets, 2000, r.kind);
    assert.equal(r.errors, 0, r.kind);
    assert.ok(r.cpuUsPerPacket > 0 && Number.isFinite(r.cpuUsPerPacket), `${r.kind} CPU`);
    assert.ok(Math.abs(r.userUsPerPacket + r.systemUsPerPacket - r.cpuUsPerPacket) < 1e-9);
  }
  // One sendmmsg call per period of 4 destinations.
  assert.equal(results[0].syscalls, 500);
  assert.match(
    formatTable(results),
    /^kind .*\nsendmmsg +2000 .*\ndeno +2000 .*\ndeno \/ sendmmsg/s,
  );
});
