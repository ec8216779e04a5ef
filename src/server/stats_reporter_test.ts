import assert from "node:assert/strict";
import { StatsReporter, type StatsSession } from "./stats_reporter.ts";
import { getLogger, logConfig } from "../util/log.ts";

Deno.test("stats reporter logs packets per second per streaming client and forgets ended ones", () => {
  const lines: string[] = [];
  logConfig.write = (l) => lines.push(l);
  const a: StatsSession = {
    id: "c1",
    ip: "10.0.0.5",
    udpPort: 5004,
    kind: "udp",
    ssrc: -1,
    stream: { packetsSent: 4000, bytesSent: 2048 },
    qos: { metrics: { packet_loss_rate: 0.01, jitter_ms: 2, latency_ms: 12 } },
  };
  const idle: StatsSession = { ...a, id: "c2", stream: null, qos: null };
  let list = [a, idle];
  const r = new StatsReporter({
    sessions: {
      list: () => list,
      get: (id) => list.find((s) => s.id === id),
      get streamingCount() {
        return list.filter((s) => s.stream).length;
      },
    },
    engine: { active: true, captureToWire: { percentile: (p) => p / 10 } },
    sendErrors: () => 0,
    cpuPercent: () => 12.5,
    log: getLogger("stream"),
    intervalMs: 10_000,
  });
  r.report();
  a.stream!.packetsSent = 6000;
  r.report();
  const rtp = lines.filter((l) => l.includes("RTP stats"));
  assert.equal(rtp.length, 2, "only the streaming client");
  assert.match(rtp[0], /pps=400\b/);
  assert.match(rtp[1], /pps=200\b/);
  assert.match(rtp[1], /ssrc=4294967295/);
  assert.match(rtp[1], /loss_pct=1\b/);
  assert.match(rtp[1], /dest=10\.0\.0\.5:5004\b/);
  assert.equal(lines.filter((l) => l.includes("engine stats")).length, 2);
  list = [];
  r.report();
  list = [a];
  lines.length = 0;
  r.report();
  assert.match(lines[0], /pps=600\b/, "a returning id starts from zero");
});

Deno.test("a browser listener's RTP stats line names its transport, not a missing port", () => {
  const lines: string[] = [];
  logConfig.write = (l) => lines.push(l);
  const wt: StatsSession = {
    id: "c7",
    ip: "192.168.8.23",
    udpPort: null,
    kind: "webtransport",
    ssrc: 7,
    stream: { packetsSent: 100, bytesSent: 4096 },
    qos: null,
  };
  new StatsReporter({
    sessions: { list: () => [wt], get: () => wt, streamingCount: 1 },
    engine: { active: false, captureToWire: { percentile: () => 0 } },
    sendErrors: () => 0,
    cpuPercent: () => 0,
    log: getLogger("stream"),
    intervalMs: 10_000,
  }).report();
  const rtp = lines.find((l) => l.includes("RTP stats")) ?? "";
  assert.match(rtp, /dest=192\.168\.8\.23\/webtransport\b/);
  assert.doesNotMatch(rtp, /null/);
});
