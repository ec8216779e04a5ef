import assert from "node:assert/strict";
import { DROP } from "./impairment.ts";
import { UdpImpairmentRelay } from "./impairment_relay.ts";
import { UniformImpairment } from "./uniform_impairment.ts";
import { WifiImpairment } from "./wifi_impairment.ts";
import { WIFI_PROFILES, type WifiProfile } from "./wifi_profile.ts";
import { udpSocketDrops } from "../../tests/helpers/udp_drops.ts";

const LOOPBACK = "127.0.0.1";
/** stage-ap with more loss and spikes, so a short run shows every effect. */
const HARSH: WifiProfile = {
  ...WIFI_PROFILES["stage-ap"],
  spikes: { per_min: 120, extra_ms: [40, 80], span_ms: [20, 60] },
  loss: { random: 0.05, bursts_per_min: 60, burst_packets: [5, 10] },
};

const idOf = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset).getUint32(0);

function socket(): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
}

function collect(conn: Deno.DatagramConn, into: number[]): Promise<void> {
  return (async () => {
    const buf = new Uint8Array(2048);
    try {
      while (true) into.push(idOf((await conn.receive(buf))[0]));
    } catch { /* closed */ }
  })();
}

async function sendNumbered(from: Deno.DatagramConn, to: Deno.NetAddr, n: number): Promise<void> {
  const msg = new Uint8Array(200);
  const dv = new DataView(msg.buffer);
  for (let i = 0; i < n; i++) {
    dv.setUint32(0, i);
    await from.send(msg, to);
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 1));
  }
}

async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 30));
}

/**
 * Every datagram the model let through arrived once (or the kernel counted it dropped at the
 * receiving socket), in due order up to the relay's own lateness.
 */
function assertModelOrder(
  got: number[],
  due: Map<number, number>,
  maxLateMs: number,
  kernelDropped: number,
) {
  assert.equal(new Set(got).size, got.length, "no duplicates");
  for (const id of got) assert.ok(due.has(id), `${id} was not let through`);
  assert.equal(got.length + kernelDropped, due.size, `kernel dropped ${kernelDropped}`);
  // A sent before B: due(A) ≤ sent(A) ≤ sent(B) ≤ due(B) + maxLate.
  let latest = -Infinity;
  for (const id of got) {
    assert.ok(latest <= due.get(id)! + maxLateMs + 1e-6, `${id} arrived out of the model's order`);
    latest = Math.max(latest, due.get(id)!);
  }
}

Deno.test("udp relay in front of a receiver delivers exactly the datagrams the model kept, in the model's order", async () => {
  const sink = socket(), src = socket();
  const due = new Map<number, number>();
  let dropped = 0;
  const relay = new UdpImpairmentRelay({
    target: sink.addr as Deno.NetAddr,
    model: new WifiImpairment(HARSH, 11),
    impaired: "to-target",
    observe: (d, at, delay) => delay === DROP ? dropped++ : due.set(idOf(d), at + delay),
  });
  const got: number[] = [];
  const receiving = collect(sink, got);
  const n = 1500;
  await sendNumbered(src, relay.addr, n);
  await settle(() => got.length >= n - dropped && relay.stats.received === n);
  const kernelDropped = await udpSocketDrops((sink.addr as Deno.NetAddr).port);
  await relay.close();
  src.close();
  sink.close();
  await receiving;
  const s = relay.stats;
  assert.equal(s.received, n);
  assert.equal(s.dropped, dropped);
  assert.ok(dropped > 40, `${dropped} dropped`);
  assert.equal(s.forwarded, n - dropped);
  assert.equal(s.overflow + s.oversize + s.passed, 0);
  assertModelOrder(got, due, s.maxLateMs, kernelDropped);
  assert.ok(got.some((v, i) => i > 0 && v < got[i - 1]), "later datagrams overtook earlier ones");
});

Deno.test("udp relay in front of a server passes the client's datagrams and impairs only the server's answers", async () => {
  const server = socket(), client = socket();
  const due = new Map<number, number>();
  const relay = new UdpImpairmentRelay({
    target: server.addr as Deno.NetAddr,
    model: new WifiImpairment(HARSH, 12),
    impaired: "from-target",
    observe: (d, at, delay) => void (delay !== DROP && due.set(idOf(d), at + delay)),
  });
  // The server echoes every request back to where it came from (the relay).
  const atServer: number[] = [];
  const echo = (async () => {
    const buf = new Uint8Array(2048);
    try {
      while (true) {
        const [d, from] = await server.receive(buf);
        atServer.push(idOf(d));
        await server.send(d, from);
      }
    } catch { /* closed */ }
  })();
  const atClient: number[] = [];
  const receiving = collect(client, atClient);
  const n = 800;
  await sendNumbered(client, relay.addr, n);
  await settle(() => relay.stats.received === n && relay.pending === 0);
  const kernelDropped = await udpSocketDrops((client.addr as Deno.NetAddr).port);
  await relay.close();
  server.close();
  client.close();
  await Promise.all([echo, receiving]);
  assert.deepEqual(
    atServer,
    Array.from({ length: n }, (_, i) => i),
    "requests pass intact, in order",
  );
  assert.equal(relay.stats.passed, n);
  assert.equal(relay.stats.received, n);
  assert.ok(relay.stats.dropped > 20);
  assertModelOrder(atClient, due, relay.stats.maxLateMs, kernelDropped);
});

Deno.test("a draining close lets every held datagram out, then ignores what comes", async () => {
  const sink = socket(), src = socket();
  const relay = new UdpImpairmentRelay({
    target: sink.addr as Deno.NetAddr,
    model: new UniformImpairment({ delayMs: 40 }),
    impaired: "to-target",
  });
  const got: number[] = [];
  const receiving = collect(sink, got);
  await sendNumbered(src, relay.addr, 50);
  await settle(() => relay.stats.received === 50);
  const closing = relay.close(true);
  await sendNumbered(src, relay.addr, 5); // after the cut
  await closing;
  await settle(() => got.length === 50);
  src.close();
  sink.close();
  await receiving;
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
  assert.equal(relay.stats.forwarded, 50);
  assert.equal(relay.stats.received, 50);
});
