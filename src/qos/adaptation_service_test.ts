/**
 * The adaptation glue on a ManualClock with the real SessionManager (a fake
 * engine underneath): a client step ends only that client's session, leaves
 * the stored rate alone, and its address's next session is given the lower
 * rate; a majority writes the stored rate instead.
 */
import assert from "node:assert/strict";
import { type Config, DEFAULT_CONFIG, defaultChannels } from "../config/types.ts";
import { type ClientSession, SessionManager } from "../session/sessions.ts";
import type { StreamingEngine } from "../session/engine.ts";
import type { ClientStream } from "../session/client_stream.ts";
import { ManualClock } from "../util/clock.ts";
import { getLogger, logConfig, type LogRecord } from "../util/log.ts";
import { AdaptationService } from "./adaptation_service.ts";

function rig() {
  const clock = new ManualClock();
  let seed = 1;
  const cfg: Config = structuredClone({ ...DEFAULT_CONFIG, config_version: 1 });
  cfg.adaptation = { enabled: true, latency_ms: 50, hold_s: 10, recover_hold_s: 60 };
  const sent = new Map<string, string[]>();
  const engine = {
    addClient: () => ({ packetsSent: 0, bytesSent: 0 }) as unknown as ClientStream,
    removeClient: () => undefined,
    active: true,
    p99: 9,
    captureToWire: { percentile: (p: number) => (p === 50 ? 4 : engine.p99), reset: () => {} },
  };
  const sessions = new SessionManager({
    clock,
    random: { u32: () => (seed = (seed * 1103515245 + 12345) >>> 0) },
    log: getLogger("test"),
    engine: engine as unknown as StreamingEngine,
    config: () => cfg,
    channels: defaultChannels,
    deviceChannels: () => 32,
    canProduceRate: () => true,
    opusAvailable: () => false,
    serverIpFor: () => "10.0.0.1",
    onStreamingChange: () => {},
  });
  const stored: number[] = [];
  const service = new AdaptationService({
    ctx: {
      clock,
      config: () => cfg,
      sessions,
      engine,
      store: {
        setSampleRate: (rate) => {
          stored.push(rate);
          cfg.audio.sample_rate = rate;
          sessions.endAll("configuration changed", { type: "config_changed" });
        },
      },
      changeReason: () => {},
      engineFeatures: { resample: true },
    },
    sendStats: () => ({ packets: 0, errors: 0 }),
    log: getLogger("adaptation"),
  });
  const join = (ip: string): ClientSession => {
    const s = sessions.open(ip, {
      send: (t) => sent.get(s.id)?.push(t),
      close: () => {},
    });
    sent.set(s.id, []);
    sessions.requestAudio(ip, 40000, s.id);
    sessions.configure(s, {});
    return s;
  };
  let n = 0;
  const report = (s: ClientSession, latency: number) => {
    n += 1000;
    service.onQos({
      client_id: s.id,
      timestamp: new Date(clock.now()).toISOString(),
      metrics: {
        packets_received: n,
        packets_expected: n,
        packet_loss_rate: 0,
        jitter_ms: 1,
        latency_ms: latency,
        bandwidth_mbps: 1,
      },
    });
  };
  const events = (s: ClientSession) =>
    sent.get(s.id)!.map((t) => JSON.parse(t)).filter((m) => m.type === "event").map((m) =>
      m.payload
    );
  return { clock, cfg, engine, sessions, service, stored, join, report, events };
}

Deno.test("service: one bad client's step ends only its session, and its address's next session gets the lower rate", () => {
  const r = rig();
  const bad = r.join("192.168.1.10");
  const others = [r.join("192.168.1.11"), r.join("192.168.1.12")];
  r.clock.advance(15_000); // past the start-up grace
  for (let t = 0; t <= 10; t += 5) {
    r.report(bad, 300);
    for (const o of others) r.report(o, 10);
    r.service.tick();
    if (t < 10) r.clock.advance(5000);
  }
  assert.equal(r.service.steps.length, 1);
  assert.equal(r.service.steps[0].scope, "client");
  assert.ok(bad.closed, "its session ended");
  const ended = r.events(bad).find((e) => e.type === "config_changed");
  assert.equal(ended.new_sample_rate, 44100);
  assert.equal(ended.scope, "client", "its page blames its own network, not the engineer");
  assert.match(ended.reason, /^latency too high, lowering this client's sample rate/);
  for (const o of others) {
    assert.equal(o.closed, false);
    assert.deepEqual(r.events(o), []);
    assert.equal(o.effective?.sampleRate, 48000);
  }
  assert.deepEqual(r.stored, [], "the stored rate was not written");
  assert.deepEqual(r.sessions.rateCeilings(), [{ address: "192.168.1.10", sample_rate: 44100 }]);
  // It reconnects asking for everything; it is given 44100, a newcomer elsewhere 48000.
  assert.equal(r.join("192.168.1.10").effective?.sampleRate, 44100);
  assert.equal(r.join("192.168.1.13").effective?.sampleRate, 48000);
});

Deno.test("service: most clients suffering writes the stored rate once and ends every session", () => {
  const r = rig();
  const all = [r.join("192.168.1.10"), r.join("192.168.1.11"), r.join("192.168.1.12")];
  r.clock.advance(15_000);
  for (let t = 0; t <= 10; t += 5) {
    all.forEach((s, i) => r.report(s, i < 2 ? 300 : 10));
    r.service.tick();
    if (t < 10) r.clock.advance(5000);
  }
  assert.deepEqual(r.stored, [44100]);
  assert.ok(all.every((s) => s.closed));
  assert.deepEqual(r.sessions.rateCeilings(), []);
});

Deno.test("service: the capture's first seconds raise no stall warning, a later stall does, and neither steps", () => {
  const r = rig();
  const warnings: LogRecord[] = [];
  const listen = (rec: LogRecord) => rec.level === "warn" && warnings.push(rec);
  logConfig.listeners.add(listen);
  try {
    const s = r.join("192.168.1.10");
    r.engine.p99 = 200; // device open, first periods
    for (let i = 0; i < 9; i++) {
      r.clock.advance(1000);
      r.service.tick();
    }
    assert.equal(warnings.length, 0, "start-up is no stall");
    r.engine.p99 = 9;
    for (let i = 0; i < 30; i++) {
      r.clock.advance(1000);
      r.service.tick();
      r.report(s, 12);
    }
    r.engine.p99 = 120; // a stall in full flight
    for (let i = 0; i < 120; i++) {
      r.clock.advance(1000);
      r.service.tick();
      if (i % 5 === 0) r.report(s, 20);
    }
    assert.equal(warnings.filter((w) => w.message === "server stall, sample rate kept").length, 2);
    assert.equal(r.service.steps.length, 0);
    assert.equal(s.closed, false);
  } finally {
    logConfig.listeners.delete(listen);
  }
});
