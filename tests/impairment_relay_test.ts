/**
 * The impairment relays in front of the real server's transports: RTP over
 * UDP to a raw receiver and to the reference client, the client WebSocket
 * through the TCP relay. Seeded, and checked against the model's own
 * decisions (which datagram, which order), never against wall-clock budgets.
 */

import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";
import { Probe } from "./helpers/probe.ts";
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

Deno.test("RTP through a stage-ap relay: every packet the model dropped is missing, every other arrives, in the model's order", async () => {
  const srv = await startTestServer();
  const due = new Map<number, number>();
  const droppedSeqs = new Set<number>();
  const p = await Probe.connect(srv.url);
  p.openUdp();
  const relay = new UdpImpairmentRelay({
    target: { transport: "udp", hostname: LOOPBACK, port: p.udpPort },
    model: new WifiImpairment(STAGE_AP_DENSE, 21),
    impaired: "to-target",
    observe: (d, at, delay) => {
      if (delay === DROP) droppedSeqs.add(seqOf(d));
      else due.set(seqOf(d), at + delay);
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
    await relay.close();
    await p.close();
  }
  const s = relay.stats;
  const got = p.packets.map((x) => x.info.sequence);
  assert.equal(s.overflow + s.oversize + s.sendErrors, 0, JSON.stringify(s));
  assert.equal(droppedSeqs.size, s.dropped);
  assert.ok(s.dropped > 30 && s.inSpike > 0, `dropped ${s.dropped}, in spikes ${s.inSpike}`);
  // Exactly the model's survivors, each once.
  assert.deepEqual([...got].sort((a, b) => a - b), [...due.keys()].sort((a, b) => a - b));
  for (const q of got) assert.ok(!droppedSeqs.has(q));
  // In the model's order: A before B only if due(A) ≤ due(B) + the relay's own timer lateness.
  let latest = -Infinity, overtakes = 0;
  for (const q of got) {
    assert.ok(latest <= due.get(q)! + s.maxLateMs + 1e-6, `seq ${q} out of the model's order`);
    if (due.get(q)! < latest) overtakes++;
    latest = Math.max(latest, due.get(q)!);
  }
  assert.ok(overtakes > 0, "later packets overtook earlier ones");
});

Deno.test("the reference client behind a crowded relay counts exactly the model's drops in its span as lost", async () => {
  const srv = await startTestServer();
  const dropped: number[] = [];
  const arrivals: number[] = [];
  const real = openUdpSource(0, LOOPBACK);
  const crowded = WIFI_PROFILES["crowded"];
  const relay = new UdpImpairmentRelay({
    target: { transport: "udp", hostname: LOOPBACK, port: real.port },
    // crowded with 20× its bursts, so a few seconds hold several.
    model: new WifiImpairment({ ...crowded, loss: { ...crowded.loss, bursts_per_min: 60 } }, 5),
    impaired: "to-target",
    observe: (d, _at, delay) => void (delay === DROP && dropped.push(seqOf(d))),
  });
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
    channels: [1, 2, 3, 4],
    log: () => {},
  }).start();
  const seq = client.receiver.seq;
  try {
    await until("1500 packets at the client", () => seq.received >= 1500);
  } finally {
    await srv.stop();
    await drained(relay);
    await client.stop();
    await relay.close();
  }
  assert.equal(seq.resyncs + seq.duplicates + seq.invalid, 0);
  assert.equal(arrivals.length, relay.stats.forwarded, "every forwarded packet reached the client");
  assert.equal(seq.received, arrivals.length);
  // The client's span: from the first packet it got to the highest (RFC 3550 A.3); packets
  // that overtook that first one arrive before its base and count as received, not expected.
  const base = arrivals[0];
  const ext = (q: number) => base + (((q - base + 32768) & 0xffff) - 32768);
  const top = Math.max(...arrivals.map(ext));
  const droppedInSpan = dropped.map(ext).filter((q) => q > base && q < top).length;
  const beforeBase = arrivals.map(ext).filter((q) => q < base).length;
  assert.equal(seq.expected, top - base + 1);
  assert.equal(seq.lost, droppedInSpan - beforeBase, `lost ${seq.lost} of ${seq.expected}`);
  assert.ok(droppedInSpan > 20, `${droppedInSpan} dropped in the span`);
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
