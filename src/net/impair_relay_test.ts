import assert from "node:assert/strict";
import { ImpairmentModel, ImpairRelay } from "./impair_relay.ts";

Deno.test("impairment model drops about the configured share, reproducibly", () => {
  const run = (seed: number) => {
    const m = new ImpairmentModel({ lossPct: 10, seed });
    let dropped = 0;
    for (let i = 0; i < 20000; i++) if (m.decide(i) < 0) dropped++;
    return dropped;
  };
  const a = run(1);
  assert.ok(a > 1800 && a < 2200, `${a} of 20000 dropped at 10 %`);
  assert.equal(run(1), a);
  assert.notEqual(run(2), a);
});

Deno.test("impairment model delays within delay + jitter and reorders the configured share", () => {
  const m = new ImpairmentModel({ delayMs: 30, jitterMs: 10, reorderPct: 5, reorderDelayMs: 100 });
  let reordered = 0;
  for (let i = 0; i < 10000; i++) {
    const d = m.decide(1000) - 1000;
    assert.ok(d >= 30 && d <= 140, `delay ${d}`);
    if (d >= 130) reordered++;
  }
  assert.ok(reordered > 400 && reordered < 600, `${reordered} of 10000 reordered at 5 %`);
  assert.throws(() => new ImpairmentModel({ lossPct: 120 }), /lossPct must be 0–100/);
});

async function relayRun(impairment: ConstructorParameters<typeof ImpairRelay>[1], n: number) {
  const sink = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const relay = new ImpairRelay(sink.addr as Deno.NetAddr, impairment);
  const src = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const got: number[] = [];
  const recv = (async () => {
    const buf = new Uint8Array(100);
    try {
      while (true) {
        const [d] = await sink.receive(buf);
        got.push(new DataView(d.buffer, d.byteOffset).getUint32(0));
      }
    } catch { /* closed */ }
  })();
  const msg = new Uint8Array(4);
  for (let i = 0; i < n; i++) {
    new DataView(msg.buffer).setUint32(0, i);
    await src.send(msg, { transport: "udp", hostname: "127.0.0.1", port: relay.port });
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1));
  }
  const end = Date.now() + 10_000;
  while (relay.stats.forwarded + relay.stats.dropped < n && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 50));
  await relay.close();
  src.close();
  sink.close();
  await recv;
  return { got, stats: relay.stats };
}

Deno.test("impair relay forwards every datagram intact when unimpaired", async () => {
  const { got, stats } = await relayRun({ delayMs: 2 }, 300);
  assert.equal(stats.dropped, 0);
  assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
});

Deno.test("impair relay loses about half at 50 % loss", async () => {
  const { got, stats } = await relayRun({ lossPct: 50, seed: 7 }, 400);
  assert.equal(stats.dropped + got.length, 400);
  assert.ok(got.length > 140 && got.length < 260, `${got.length} of 400 through`);
});
