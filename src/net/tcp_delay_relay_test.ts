import assert from "node:assert/strict";
import { TcpDelayRelay } from "./tcp_delay_relay.ts";
import { WifiImpairment } from "./wifi_impairment.ts";
import { WIFI_PROFILES } from "./wifi_profile.ts";

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    parts.push(buf.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) out.set(p, off), off += p.length;
  return out;
}

Deno.test("tcp relay delivers the server's bytes intact and in order, loss turned into delay, and the client's bytes as sent", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const total = 200 * 1000;
  let fromClient = "";
  const serving = (async () => {
    const conn = await server.accept();
    const req = new Uint8Array(5);
    let got = 0;
    while (got < 5) got += (await conn.read(req.subarray(got)))!;
    fromClient = new TextDecoder().decode(req);
    // 200 writes of 1000 bytes, paced, so the relay reads many chunks.
    for (let i = 0; i < 200; i++) {
      const chunk = new Uint8Array(1000).map((_, j) => (i * 1000 + j) % 251);
      for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
      await new Promise((r) => setTimeout(r, 1));
    }
    conn.close();
  })();
  const harsh = {
    ...WIFI_PROFILES["stage-ap"],
    loss: { random: 0.05, bursts_per_min: 0 },
  };
  const model = new WifiImpairment(harsh, 4);
  const relay = new TcpDelayRelay({
    target: server.addr as Deno.NetAddr,
    model,
    retransmitMs: 20,
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
  await client.write(new TextEncoder().encode("hello"));
  const bytes = await readAll(client);
  client.close();
  await serving;
  await relay.close();
  server.close();
  assert.equal(fromClient, "hello");
  assert.equal(bytes.length, total);
  for (let k = 0; k < total; k++) if (bytes[k] !== k % 251) assert.fail(`byte ${k} out of order`);
  const s = relay.stats;
  assert.equal(s.connections, 1);
  assert.equal(s.bytesDelayed, total);
  assert.equal(s.bytesPassed, 5);
  // One model decision per chunk read; the model's drops became retransmission delays.
  assert.ok(s.chunks > 1, `${s.chunks} chunks`);
  assert.equal(s.chunks, model.counters.packets);
  assert.equal(s.retransmitted, model.counters.droppedRandom + model.counters.droppedBurst);
  assert.equal(relay.lateness.count, s.chunks); // every chunk's write measured against its release
});
