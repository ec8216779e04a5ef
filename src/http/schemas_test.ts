import assert from "node:assert/strict";
import {
  ClientConfigPayload,
  JitterThresholdsBody,
  ListenerSignal,
  MAX_OFFER_SDP_CHARS,
  parseWith,
  QosReport,
  WsClientMessage,
} from "./schemas.ts";

Deno.test("client_config accepts the requirements' example and keeps the client's extra fields", () => {
  const r = parseWith(ClientConfigPayload, {
    channels: [{ id: 1, name: "Vocal", mute: false, eq: { low: -3 } }],
    sample_rate: 44100,
    compression: "opus",
  });
  assert.ok(r.ok);
  assert.equal(r.value.channels?.[0].id, 1);
});

Deno.test("client_config rejects bad rates, compressions and channel ids with a path", () => {
  const bad: [unknown, RegExp][] = [
    [{ sample_rate: 22050 }, /sample_rate: sample_rate must be/],
    [{ compression: "mp3" }, /compression/],
    [{ channels: [{ id: 0 }] }, /channels\.0\.id/],
    [{ channels: [{ id: 1.5 }] }, /integer/],
    [{ channels: "all" }, /channels/],
  ];
  for (const [payload, re] of bad) {
    const r = parseWith(ClientConfigPayload, payload);
    assert.ok(!r.ok, JSON.stringify(payload));
    assert.match(r.message, re);
  }
});

Deno.test("WebSocket messages are told apart by type", () => {
  assert.ok(
    parseWith(WsClientMessage, { type: "heartbeat", timestamp: "2025-07-15T10:05:00Z" }).ok,
  );
  assert.ok(parseWith(WsClientMessage, { type: "ntp_request", t1: 1721123456789 }).ok);
  assert.ok(!parseWith(WsClientMessage, { type: "ntp_request", t1: "soon" }).ok);
});

Deno.test("QoS report requires every metric the contract lists", () => {
  const good = {
    client_id: "client_001",
    timestamp: "2024-01-01T12:00:00Z",
    metrics: {
      packets_received: 1500,
      packets_expected: 1500,
      packet_loss_rate: 0,
      jitter_ms: 2.5,
      latency_ms: 15.2,
      bandwidth_mbps: 2.1,
    },
  };
  assert.ok(parseWith(QosReport, good).ok);
  const { jitter_ms: _, ...noJitter } = good.metrics;
  const r = parseWith(QosReport, { ...good, metrics: noJitter });
  assert.ok(!r.ok);
  assert.match(r.message, /jitter_ms/);
});

Deno.test("jitter thresholds need integers with interpolate below drop", () => {
  assert.ok(parseWith(JitterThresholdsBody, { interpolate: 120, drop: 250 }).ok);
  for (
    const b of [
      { interpolate: 250, drop: 120 },
      { interpolate: 0, drop: 5 },
      {
        interpolate: 1,
        drop: 20000,
      },
      { interpolate: 1.5, drop: 9 },
      { interpolate: 1, drop: 2, extra: 1 },
    ]
  ) {
    assert.ok(!parseWith(JitterThresholdsBody, b).ok, JSON.stringify(b));
  }
});

Deno.test("listener signalling: an offer needs a bounded sdp string; a token request needs nothing", () => {
  const ok = parseWith(ListenerSignal, { type: "webrtc_offer", sdp: "v=0\r\n" });
  assert.ok(ok.ok && ok.value.type === "webrtc_offer" && ok.value.sdp === "v=0\r\n");
  assert.deepEqual(parseWith(ListenerSignal, { type: "webtransport_connect" }), {
    ok: true,
    value: { type: "webtransport_connect" },
  });
  const missing = parseWith(ListenerSignal, { type: "webrtc_offer" });
  assert.ok(!missing.ok && /sdp/.test(missing.message), JSON.stringify(missing));
  const long = parseWith(ListenerSignal, {
    type: "webrtc_offer",
    sdp: "a".repeat(MAX_OFFER_SDP_CHARS + 1),
  });
  assert.ok(!long.ok && /over 16384 characters/.test(long.message), JSON.stringify(long));
  assert.equal(parseWith(ListenerSignal, { type: "webrtc_answer", sdp: "" }).ok, false);
});
