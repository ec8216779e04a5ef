import assert from "node:assert/strict";
import {
  clientConfigMessage,
  heartbeatMessage,
  isSessionEndingEvent,
  ntpRequestMessage,
  parseServerMessage,
} from "./messages.ts";
import { parseAudioMeta, qosReport, resolveJitterThresholds } from "./api.ts";

Deno.test("client messages are the contract's JSON", () => {
  assert.deepEqual(JSON.parse(heartbeatMessage(Date.UTC(2025, 6, 15, 10, 5))), {
    type: "heartbeat",
    timestamp: "2025-07-15T10:05:00.000Z",
  });
  assert.deepEqual(JSON.parse(ntpRequestMessage(1721123456789)), {
    type: "ntp_request",
    t1: 1721123456789,
  });
  const cfg = { channels: [{ id: 1, name: "Vocal", mute: false }], sample_rate: 44100 };
  assert.deepEqual(JSON.parse(clientConfigMessage({ ...cfg, compression: "opus" })), {
    type: "client_config",
    payload: { ...cfg, compression: "opus" },
  });
});

Deno.test("server messages parse into typed values", () => {
  assert.deepEqual(
    parseServerMessage(
      '{"type":"welcome","client_id":"c1","server_time":5,"heartbeat_timeout_s":30,"config_version":7}',
    ),
    {
      type: "welcome",
      client_id: "c1",
      server_time: 5,
      heartbeat_timeout_s: 30,
      config_version: 7,
    },
  );
  const ack = parseServerMessage(JSON.stringify({
    type: "client_config_ack",
    payload: {
      channels: [1, 5, 32],
      sample_rate: 44100,
      compression: "none",
      encoding: "L24",
      ptime_ms: 5,
      ssrc: 4000000000,
      payload_type: 96,
      sdp: "v=0",
    },
  }));
  assert.equal(ack.type, "client_config_ack");
  if (ack.type === "client_config_ack") assert.equal(ack.payload.ssrc, 4000000000);
  const ev = parseServerMessage(
    '{"type":"event","payload":{"type":"config_changed","reason":"latency too high","new_sample_rate":32000}}',
  );
  assert.ok(ev.type === "event" && ev.payload.new_sample_rate === 32000);
  assert.deepEqual(parseServerMessage('{"type":"ntp_response","t1":1,"t2":2,"t3":3}'), {
    type: "ntp_response",
    t1: 1,
    t2: 2,
    t3: 3,
  });
});

Deno.test("server messages that break the contract are refused with a reason", () => {
  assert.throws(() => parseServerMessage("nope"), /not JSON/);
  assert.throws(
    () => parseServerMessage('{"type":"bogus"}'),
    /unknown server message type "bogus"/,
  );
  assert.throws(() => parseServerMessage('{"type":"ntp_response","t1":1,"t2":"x","t3":3}'), /t2/);
  assert.throws(
    () =>
      parseServerMessage(
        '{"type":"client_config_ack","payload":{"channels":[1],"encoding":"MP3","sample_rate":1,"ptime_ms":5,"ssrc":1,"payload_type":96}}',
      ),
    /encoding must be L16, L24 or opus/,
  );
});

Deno.test("reconnect, config_changed and server_shutdown end the session; others do not", () => {
  assert.deepEqual(
    ["reconnect", "config_changed", "server_shutdown", "network_warning", "custom_message"].map(
      isSessionEndingEvent,
    ),
    [true, true, true, false, false],
  );
});

Deno.test("jitter thresholds: environment, else server, else 100/200", () => {
  const server = { interpolate: 120, drop: 250 };
  assert.deepEqual(resolveJitterThresholds({ interpolate: 50, drop: 90 }, server), {
    interpolate: 50,
    drop: 90,
    source: "env",
  });
  assert.deepEqual(resolveJitterThresholds({ drop: 300 }, server), {
    interpolate: 120,
    drop: 300,
    source: "env",
  });
  assert.deepEqual(resolveJitterThresholds({}, server), { ...server, source: "server" });
  assert.deepEqual(resolveJitterThresholds({ interpolate: 500 }, null), {
    interpolate: 100,
    drop: 200,
    source: "default",
  }); // 500 ≥ the default drop: invalid, ignored
});

Deno.test("QoS report has exactly the requirements' fields", () => {
  const r = qosReport("client_001", Date.UTC(2024, 0, 1, 12), {
    packets_received: 1500,
    packets_expected: 1500,
    packet_loss_rate: 0,
    jitter_ms: 2.5,
    latency_ms: NaN,
    bandwidth_mbps: 2.1,
  });
  assert.deepEqual(r, {
    client_id: "client_001",
    timestamp: "2024-01-01T12:00:00.000Z",
    metrics: {
      packets_received: 1500,
      packets_expected: 1500,
      packet_loss_rate: 0,
      jitter_ms: 2.5,
      latency_ms: 0,
      bandwidth_mbps: 2.1,
    },
  });
});

Deno.test("audio-meta parses the contract example", () => {
  const m = parseAudioMeta({
    sample_rate: 48000,
    native_sample_rate: 48000,
    encoding: "L24",
    compressions: ["none", "opus"],
    ptime_ms: 5,
    channels: [{ id: 1, name: "CH01", order: 1 }, { id: 5, name: "Vox", order: 2 }],
    config_version: 7,
    rtp: { payload_type: 96, server_port: 5004 },
    test_mode: false,
  });
  assert.deepEqual(m.channels.map((c) => c.id), [1, 5]);
  assert.equal(m.rtp.server_port, 5004);
  assert.throws(() => parseAudioMeta({ channels: [] }), /sample_rate/);
});

Deno.test("an Opus ack's channel_groups are kept and must list the channels in order", () => {
  const ack = (groups: unknown) =>
    JSON.stringify({
      type: "client_config_ack",
      payload: {
        channels: [1, 2, 3],
        sample_rate: 48000,
        compression: "opus",
        encoding: "opus",
        ptime_ms: 5,
        ssrc: 1,
        payload_type: 97,
        channel_groups: groups,
      },
    });
  const m = parseServerMessage(ack([[1, 2], [3]]));
  assert.ok(m.type === "client_config_ack");
  assert.deepEqual(m.payload.channel_groups, [[1, 2], [3]]);
  assert.throws(() => parseServerMessage(ack([[1], [3, 2]])), /channel_groups .* in order/);
  assert.throws(() => parseServerMessage(ack([1, 2, 3])), /list of lists/);
});
