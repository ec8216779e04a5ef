import assert from "node:assert/strict";
import { ChannelSender } from "../listener/channel_sender.ts";
import { CAPTURE_TO_WIRE_WINDOW, type ClientStreamParams } from "../session/engine.ts";
import { LatencyWindow } from "../session/latency_window.ts";
import { LATENESS_BYTES } from "../session/lateness.ts";
import {
  C_CLIENTS,
  C_STRIDE,
  C_TOTAL_PACKETS,
  COUNTER_BYTES,
  MAX_CLIENT_SLOTS,
  type ToWorker,
} from "./protocol.ts";
import { gateBytes } from "./slot_gate.ts";
import { RemoteEngine } from "./remote_engine.ts";

function setup(opus = false) {
  const counters = new Float64Array(new SharedArrayBuffer(COUNTER_BYTES));
  const sent: ToWorker[] = [];
  const engine = new RemoteEngine(
    counters,
    new SharedArrayBuffer(LatencyWindow.bytes(CAPTURE_TO_WIRE_WINDOW)),
    new SharedArrayBuffer(LATENESS_BYTES),
    (m) => sent.push(structuredClone(m)), // what postMessage would do
    opus,
    new SharedArrayBuffer(gateBytes(MAX_CLIENT_SLOTS)),
  );
  return { counters, sent, engine };
}

const params = (clientId: string, extra: Partial<ClientStreamParams> = {}): ClientStreamParams => ({
  clientId,
  hostname: "127.0.0.1",
  port: 40000,
  spec: { channels: [1, 2], sampleRate: 48000, compression: "none", encoding: "L24" },
  ssrc: 1,
  sequence: 2,
  timestampBase: 3,
  ...extra,
});

Deno.test("a browser client's sender stays on this side: the worker is told its slot and datagram limit", () => {
  const { sent, engine } = setup();
  const ws = new ChannelSender("websocket", { send() {}, bufferedAmount: 0, open: true }, 1150);
  engine.addClient(params("b", { sender: ws }));
  engine.addClient(params("u"));
  const adds = sent.filter((m) => m.type === "add");
  assert.equal(adds.length, 2);
  assert.equal(adds[0].type === "add" && adds[0].relayMaxDatagramBytes, 1150);
  assert.equal(adds[1].type === "add" && adds[1].relayMaxDatagramBytes, null);
  const slot = adds[0].type === "add" ? adds[0].slot : -1;
  assert.equal(engine.relaySenders.get(slot), ws);
  assert.equal(engine.active, true);
});

Deno.test("Opus without the library is refused at once, as the engine would, and nothing is sent", () => {
  const { sent, engine } = setup(false);
  assert.throws(
    () =>
      engine.addClient(params("o", {
        spec: {
          channels: [1],
          sampleRate: 48000,
          compression: "opus",
          encoding: "L24",
          opus: { bitrate: 64000, maxBandwidth: 1105, frameMs: 5 },
        },
      })),
    /Opus is not available/,
  );
  assert.equal(sent.length, 0);
  assert.equal(engine.active, false);
});

Deno.test("counters come from shared memory; a removed client keeps its last counts when its slot is reused", () => {
  const { counters, sent, engine } = setup();
  const a = engine.addClient(params("a"));
  const slotA = sent[0].type === "add" ? sent[0].slot : -1;
  counters[C_CLIENTS + C_STRIDE * slotA] = 90;
  counters[C_CLIENTS + C_STRIDE * slotA + 1] = 9000;
  counters[C_TOTAL_PACKETS] = 90;
  assert.equal(a.packetsSent, 90);
  assert.equal(engine.totalPackets, 90);
  assert.equal(engine.removeClient("a"), a);
  counters[C_CLIENTS + C_STRIDE * slotA] = 0; // the worker zeroes a slot for its next client
  assert.equal(a.packetsSent, 90);
  assert.equal(a.bytesSent, 9000);
  assert.equal(engine.active, false);
  assert.deepEqual(sent.at(-1), { type: "remove", clientId: "a" });
  assert.equal(engine.removeClient("a"), undefined);
});
