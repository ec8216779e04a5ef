/**
 * The impairment relays in front of the real server's transports: RTP over
 * UDP to a raw receiver and to the reference client, the client WebSocket
 * through the TCP relay. Seeded, and checked against the model's own
 * decisions (which datagram, which order), never against wall-clock budgets.
 */

import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";
import { Probe } from "./helpers/probe.ts";
import { udpSocketDrops } from "./helpers/udp_drops.ts";
import { ReferenceClient } from "../src/client/session.ts";
import { openUdpSource } from "../src/client/udp_source.ts";
import { DROP } from "../src/net/impairment.ts";
import { UdpImpairmentRelay } from "../src/net/impairment_relay.ts";
import { TcpDelayRelay } from "../src/net/tcp_delay_relay.ts";
import { WifiImpairment } from "../src/net/wifi_impairment.ts";
import { WIFI_PROFILES, type WifiProfile } from "../src/net/wifi_profile.ts";

const LOOPBACK = "127.0.0.1";
/** stage-ap with 60× its spikes and bursts, so a few seconds show each effect. */
const STAGE_AP_DENSE: WifiProfile = {
  ...WIFI_PROFILES["stage-ap"],
  spikes: { ...WIFI_PROFILES["stage-ap"].spikes!, per_min: 120 },
  loss: { ...WIFI_PROFILES["stage-ap"].loss, random: 0.02, bursts_per_min: 60 },
};
const EIGHT_CHANNELS = Array.from({ length: 8 }, (_, i) => ({ id: i + 1 }));

const seqOf = (d: Uint8Array) => (d[2] << 8) | d[3];
/** SSRC and sequence number: a packet's identity even if the server starts a new stream. */
const keyOf = (d: Uint8Array) =>
  new DataView(d.buffer, d.byteOffset).getUint32(8) * 65536 + seqOf(d);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, pred: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the relay has taken nothing new for a while and holds nothing. */
async function drained(relay: UdpImpairmentRelay): Promise<void> {
  let last = -1;
  await until("the relay to drain", () => {
    const s = relay.stats;
    const done = s.received === last && relay.pending === 0 &&
      s.forwarded + s.sendErrors === s.received - s.dropped - s.overflow - s.oversize;
    last = s.received;
    return done;
  });
}

Deno.test("RTP through a stage-ap relay: every packet the model dropped is missing, every other arrives (or the kernel counted it dropped), in the model's order", async () => {
  const srv = await startTestServer();
  const due = new Map<number, number>();
  const order = new Map<number, number>(); // the n-th datagram the relay took
  const droppedSeqs = new Set<number>();
  const p = await Probe.connect(srv.url);
  const receivePort = p.openUdp();
  let kernelDropped = 0;
  const relay = new UdpImpairmentRelay({
    target: { transport: "udp", hostname: LOOPBACK, port: receivePort },
    model: new WifiImpairment(STAGE_AP_DENSE, 21),
    impaired: "to-target",
    observe: (d, at, delay) => {
      order.set(keyOf(d), order.size);
      if (delay === DROP) droppedSeqs.add(keyOf(d));
      else due.set(keyOf(d), at + delay);
    },
  });
  try {
    p.udpPort = relay.port; // the server sends to the relay
    assert.equal((await p.requestAudio()).status, 200);
    p.send({ type: "client_config", payload: { channels: EIGHT_CHANNELS } });
    await p.next("client_config_ack");
    await until("3000 datagrams through the relay", () => relay.stats.received >= 3000);
  } finally {
    await srv.stop(); // no more packets
    await drained(relay);
    kernelDropped = await udpSocketDrops(receivePort);
    await relay.close();
    await p.close();
  }
  const s = relay.stats;
  const got = p.packets.map((x) => x.info.ssrc * 65536 + x.info.sequence);
  assert.equal(s.overflow + s.oversize + s.sendErrors, 0, JSON.stringify(s));
  assert.equal(droppedSeqs.size, s.dropped);
  assert.ok(s.dropped > 30 && s.inSpike > 0, `dropped ${s.dropped}, in spikes ${s.inSpike}`);
  // The model's survivors, each once; none it dropped; the missing ones are the kernel's drops.
  assert.equal(new Set(got).size, got.length, "no duplicates");
  for (const q of got) assert.ok(due.has(q) && !droppedSeqs.has(q), `${q % 65536} not a survivor`);
  assert.equal(got.length + kernelDropped, due.size, `kernel dropped ${kernelDropped}`);
  // In the model's order: A before B only if due(A) ≤ due(B) + the relay's own timer lateness.
  let latest = -Infinity, lastSent = -1, overtakes = 0;
  for (const q of got) {
    assert.ok(latest <= due.get(q)! + s.maxLateMs + 1e-6, `${q % 65536} out of the model's order`);
    latest = Math.max(latest, due.get(q)!);
    if (order.get(q)! < lastSent) overtakes++;
    lastSent = Math.max(lastSent, order.get(q)!);
  }
  assert.ok(overtakes > 0, "later packets overtook earlier ones");
});

Deno.test("the reference client behind a stage-ap relay counts exactly the model's drops in its span as lost", async () => {
  const srv = await startTestServer();
  const dropped: number[] = [];
  const arrivals: number[] = [];
  const real = openUdpSource(0, LOOPBACK);
  const relay = new UdpImpairmentRelay({
    target: { transport: "udp", hostname: LOOPBACK, port: real.port },
    model: new WifiImpairment(STAGE_AP_DENSE, 5),
    impaired: "to-target",
    observe: (d, _at, delay) => void (delay === DROP && dropped.push(seqOf(d))),
  });
  let kernelDropped = 0;
  const client = new ReferenceClient({
    server: srv.url,
    udp: {
      port: relay.port,
      receive: async (b) => {
        const n = await real.receive(b);
        arrivals.push(seqOf(b));
        return n;
      },
      close: () => real.close(),
    },
    // One channel: one datagram per 5 ms packet time, so MAX_MISORDER (100 packets) is 500 ms,
    // beyond any delay of the model even when the relay takes a burst after a stall of ours.
    channels: [1],
    log: () => {},
  }).start();
  const seq = client.receiver.seq;
  try {
    await until("1000 packets at the client", () => seq.received >= 1000);
    // Cut the stream at the relay and let out what it holds while the session still runs
    // (a client without a session only queues what it gets).
    await relay.close(true);
    kernelDropped = await udpSocketDrops(real.port);
    await until(
      "the client to take every arrival",
      () => seq.received + seq.duplicates + seq.invalid + kernelDropped >= relay.stats.forwarded,
    );
  } finally {
    await client.stop();
    await relay.close();
    await srv.stop();
  }
  assert.equal(seq.resyncs + seq.duplicates + seq.invalid, 0);
  assert.equal(
    arrivals.length + kernelDropped,
    relay.stats.forwarded,
    "every forwarded packet reached the client, or the kernel counted it dropped",
  );
  assert.equal(seq.received, arrivals.length);
  // No arrival was MAX_MISORDER behind (no invalid, no resync above), so every one counts: the span runs from the lowest to the highest sequence number that
  // arrived (RFC 3550 A.3, a late packet below the first one extends it).
  const first = arrivals[0];
  const ext = arrivals.map((q) => first + (((q - first + 32768) & 0xffff) - 32768));
  const low = Math.min(...ext), top = Math.max(...ext);
  const droppedInSpan = dropped.map((q) => first + (((q - first + 32768) & 0xffff) - 32768))
    .filter((q) => q > low && q < top).length;
  assert.equal(seq.expected, top - low + 1);
  // Exact when the kernel dropped nothing at the client's socket; else up to its drops more.
  assert.ok(
    seq.lost >= droppedInSpan && seq.lost <= droppedInSpan + kernelDropped,
    `lost ${seq.lost} of ${seq.expected}, model ${droppedInSpan}, kernel ${kernelDropped}`,
  );
  assert.ok(seq.reordered > 0, "packets overtook others");
  assert.ok(droppedInSpan > 10, `${droppedInSpan} dropped in the span`);
});

Deno.test("the client WebSocket through the TCP relay gets every message, delayed by the model", async () => {
  const srv = await startTestServer();
  const port = Number(new URL(srv.url).port);
  const model = new WifiImpairment(STAGE_AP_DENSE, 3);
  const relay = new TcpDelayRelay({
    target: { hostname: LOOPBACK, port },
    model,
    retransmitMs: 50,
  });
  const p = await Probe.connect(`http://${LOOPBACK}:${relay.port}`);
  try {
    for (let i = 0; i < 30; i++) {
      p.send({ type: "ntp_request", t1: i });
      const r = await p.next("ntp_response");
      assert.equal(r.t1, i, "answers come in order");
    }
  } finally {
    await p.close();
    await relay.close();
    await srv.stop();
  }
  const s = relay.stats;
  assert.equal(s.connections, 1);
  assert.ok(s.chunks >= 31, `${s.chunks} chunks (upgrade, welcome, 30 answers)`);
  assert.equal(s.chunks, model.counters.packets, "one model decision per chunk");
  assert.equal(s.retransmitted, model.counters.droppedRandom + model.counters.droppedBurst);
  assert.ok(s.bytesPassed > 0 && s.bytesDelayed > 0);
});
