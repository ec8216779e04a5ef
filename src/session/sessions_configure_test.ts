/**
 * SessionManager's client_config (fakes in ./sessions_testkit.ts): channels in
 * the server's mapping order, sample rates, Opus groups, invalid payloads, and
 * when streaming starts or restarts.
 */
import assert from "node:assert/strict";
import { type ChannelConfig, defaultChannels } from "../config/types.ts";
import { PT_OPUS, PT_PCM } from "../rtp/packet.ts";
import { ackOf, assertErrorCode, type Setup, setup } from "./sessions_testkit.ts";

// ── configure ───────────────────────────────────────────────────────────────

/** 8 channels mapped in the console's order 3,1,2,8,…; channel 4 disabled. */
function shuffledMapping(): ChannelConfig[] {
  const order = [3, 1, 2, 8, 5, 6, 7, 4];
  return order.map((id, i) => ({ id, name: `CH${id}`, enabled: id !== 4, order: i + 1 }));
}

Deno.test("client_config channels are sent in the server's mapping order, not the order asked", () => {
  const { sessions, connect } = setup({ channels: shuffledMapping() });
  const { session, socket } = connect();
  sessions.configure(session, { channels: [{ id: 8 }, { id: 1 }, { id: 3 }] });
  assert.deepEqual(ackOf(socket).channels, [3, 1, 8]);
  assert.deepEqual(session.effective?.channels, [3, 1, 8]);
});

Deno.test("client_config without channels gets every mapped channel the device has", () => {
  const { sessions, connect } = setup({ channels: shuffledMapping(), deviceChannels: 6 });
  const { session, socket } = connect();
  sessions.configure(session, {});
  // Channel 4 is disabled; 7 and 8 are beyond a 6-channel USB mode.
  assert.deepEqual(ackOf(socket).channels, [3, 1, 2, 5, 6]);
});

// The session layer names each refusal; src/http/errors.ts answers all three as the contract's
// `invalid_payload` on /ws (its test checks that table).
Deno.test("client_config naming an unmapped, disabled or absent channel is refused as unmapped_channel", () => {
  const { sessions, connect } = setup({ channels: shuffledMapping(), deviceChannels: 6 });
  const { session, socket } = connect();
  for (const id of [4, 7, 33]) {
    assertErrorCode(
      () => sessions.configure(session, { channels: [{ id: 1 }, { id }] }),
      "unmapped_channel",
      new RegExp(`channel ${id} is not mapped`),
    );
  }
  assert.equal(session.requested, null);
  assert.equal(socket.last("client_config_ack"), undefined);
});

Deno.test("client_config on a server with no mapped channel is refused as no_mapped_channel", () => {
  const none = defaultChannels().map((c) => ({ ...c, enabled: false }));
  const { sessions, connect } = setup({ channels: none });
  const { session } = connect();
  assertErrorCode(() => sessions.configure(session, {}), "no_mapped_channel", /no channel/);
});

Deno.test("PCM sample rate: the highest producible rate at or below the asked and the server's", () => {
  const cases: [Setup, number, number][] = [
    [{}, 44100, 44100],
    [{}, 24000, 24000],
    [{ sampleRate: 32000 }, 48000, 32000],
    [{ producible: [48000, 32000] }, 44100, 32000],
    [{ producible: [48000] }, 24000, 48000], // nothing lower: the native rate
  ];
  for (const [o, asked, expected] of cases) {
    const { sessions, connect } = setup(o);
    const { session, socket } = connect();
    sessions.configure(session, { sample_rate: asked as 48000 });
    const ack = ackOf(socket);
    assert.equal(ack.sample_rate, expected, `asked ${asked} with ${JSON.stringify(o)}`);
    assert.equal(ack.payload_type, PT_PCM);
    assert.match(String(ack.sdp), new RegExp(`L24/${expected}/32`));
  }
});

Deno.test("Opus client_config is acknowledged with its decode rate, bitrate and channel groups", () => {
  const { sessions, connect } = setup();
  const { session, socket } = connect();
  sessions.configure(session, { compression: "opus", sample_rate: 32000 });
  const ack = ackOf(socket);
  assert.equal(ack.encoding, "opus");
  assert.equal(ack.payload_type, PT_OPUS);
  assert.equal(ack.sample_rate, 24000);
  assert.equal(ack.bitrate_per_channel, 48000);
  assert.equal(ack.ptime_ms, 5);
  // 32 × 30 B frames (+2 B self-delimiting) fit one 1400-byte datagram.
  assert.deepEqual(ack.channel_groups, [Array.from({ length: 32 }, (_, i) => i + 1)]);
});

Deno.test("Opus on a WebTransport session is split into groups that fit its 1150-byte datagrams", () => {
  const { sessions, connect } = setup();
  const { session, socket } = connect("10.0.0.9", "webtransport");
  session.maxDatagramBytes = 1150;
  sessions.configure(session, { compression: "opus" });
  // 64 kbit/s × 5 ms = 40 B + 2 per stream: 26 fit in 1150 − 28, so 32 → 16 + 16.
  const groups = ackOf(socket).channel_groups as number[][];
  assert.deepEqual(groups.map((g) => g.length), [16, 16]);
  assert.deepEqual(groups.flat(), Array.from({ length: 32 }, (_, i) => i + 1));
  assert.equal(session.effective?.maxDatagramBytes, 1150);
});

Deno.test("Opus asked of a server without libopus is refused as opus_unavailable", () => {
  const { sessions, connect } = setup({ opus: false });
  const { session } = connect();
  assertErrorCode(
    () => sessions.configure(session, { compression: "opus" }),
    "opus_unavailable",
    /opus/,
  );
});

Deno.test("streaming starts once both destination and client_config are known, in either order", () => {
  const { sessions, connect, engine, streamingChanges } = setup();
  const a = connect("10.0.0.1");
  sessions.configure(a.session, {});
  assert.equal(engine.streams.size, 0);
  sessions.requestAudio("10.0.0.1", 5004, a.session.id);
  assert.equal(engine.streams.get(a.session.id)?.hostname, "10.0.0.1");

  const b = connect("10.0.0.2");
  sessions.requestAudio("10.0.0.2", 5008, b.session.id);
  assert.equal(engine.streams.size, 1);
  sessions.configure(b.session, { channels: [{ id: 2 }] });
  assert.deepEqual(engine.streams.get(b.session.id)?.spec.channels, [2]);
  assert.equal(engine.streams.get(b.session.id)?.port, 5008);
  assert.equal(sessions.streamingCount, 2);
  assert.equal(streamingChanges(), 2);
});

Deno.test("a new client_config while streaming restarts the stream under a new SSRC", () => {
  const { sessions, connect, engine } = setup();
  const { session, socket } = connect();
  sessions.requestAudio("10.0.0.5", 5004, session.id);
  sessions.configure(session, {});
  const first = engine.streams.get(session.id)!;
  sessions.configure(session, { channels: [{ id: 1 }, { id: 2 }] });
  const second = engine.streams.get(session.id)!;
  assert.notEqual(second.ssrc, first.ssrc);
  assert.deepEqual(second.spec.channels, [1, 2]);
  assert.equal(ackOf(socket).ssrc, second.ssrc >>> 0);
  assert.equal(engine.streams.size, 1);
});
