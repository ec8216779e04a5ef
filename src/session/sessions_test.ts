/**
 * SessionManager on its own: a fake engine, fake sockets and a ManualClock.
 * No server, no network, no waiting: heartbeat timeouts are stepped through.
 */
import assert from "node:assert/strict";
import {
  type ClientSession,
  CLOSE_ENDED_BY_SERVER,
  CLOSE_HEARTBEAT_TIMEOUT,
  CLOSE_NORMAL,
  type SessionEngine,
  SessionManager,
  type SessionTransport,
} from "./sessions.ts";
import type { ClientStreamParams } from "./engine.ts";
import type { ClientStream } from "./client_stream.ts";
import {
  type ChannelConfig,
  type Config,
  DEFAULT_CONFIG,
  defaultChannels,
} from "../config/types.ts";
import { ManualClock, SeededRandom } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";
import { PT_OPUS, PT_PCM } from "../rtp/packet.ts";

const silentLog: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLog,
};

/** Records which streams the sessions ask for; a stream is only its parameters here. */
class FakeEngine implements SessionEngine {
  readonly streams = new Map<string, ClientStreamParams>();
  readonly added: ClientStreamParams[] = [];
  addClient(p: ClientStreamParams): ClientStream {
    this.streams.set(p.clientId, p);
    this.added.push(p);
    return { clientId: p.clientId, packetsSent: 0, bytesSent: 0 } as unknown as ClientStream;
  }
  removeClient(clientId: string): ClientStream | undefined {
    const p = this.streams.get(clientId);
    if (!p) return undefined;
    this.streams.delete(clientId);
    return { clientId, packetsSent: 7, bytesSent: 0 } as unknown as ClientStream;
  }
}

/** A WebSocket stand-in: the JSON it was sent and how it was closed. */
class FakeSocket implements SessionTransport {
  readonly sent: Record<string, unknown>[] = [];
  closedWith: { code: number; reason: string } | null = null;
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }
  last(type: string): Record<string, unknown> | undefined {
    return this.sent.findLast((m) => m.type === type);
  }
}

/** A browser transport (DataChannel, WebTransport) as the sessions see it. */
function browserSender(maxDatagramBytes = 1400): PacketSender {
  const stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  const buf = new Uint8Array(maxDatagramBytes);
  return {
    kind: "datachannel",
    localPort: 0,
    maxDatagramBytes,
    stats,
    destination: (hostname: string, port: number): UdpDestination => ({ hostname, port }),
    slot: () => buf,
    commit() {},
    flush() {},
    setDscp() {},
    close() {},
  };
}

interface Setup {
  maxClients?: number;
  heartbeatS?: number;
  sampleRate?: number;
  channels?: ChannelConfig[];
  deviceChannels?: number;
  producible?: number[];
  opus?: boolean;
}

function setup(o: Setup = {}) {
  const clock = new ManualClock();
  const engine = new FakeEngine();
  const config: Config = structuredClone({ ...DEFAULT_CONFIG, config_version: 3 });
  config.network.max_clients = o.maxClients ?? 20;
  config.network.heartbeat_timeout_s = o.heartbeatS ?? 30;
  config.audio.sample_rate = o.sampleRate ?? 48000;
  const channels = o.channels ?? defaultChannels();
  const producible = new Set(o.producible ?? [48000, 44100, 32000, 24000]);
  let streamingChanges = 0;
  const sessions = new SessionManager({
    clock,
    random: new SeededRandom(42),
    log: silentLog,
    engine,
    config: () => config,
    channels: () => channels,
    deviceChannels: () => o.deviceChannels ?? 32,
    canProduceRate: (r) => producible.has(r),
    opusAvailable: () => o.opus ?? true,
    serverIpFor: () => "192.0.2.1",
    onStreamingChange: () => streamingChanges++,
  });
  const connect = (ip = "10.0.0.5", kind = "udp") => {
    const socket = new FakeSocket();
    const session = sessions.open(ip, socket, kind);
    return { session, socket };
  };
  return { clock, engine, config, sessions, connect, streamingChanges: () => streamingChanges };
}

/** Runs `fn`, expects it to throw the contract error `code` (whatever class carries it). */
function assertErrorCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: unknown }).code, code, String(e));
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

const ackOf = (socket: FakeSocket) =>
  socket.last("client_config_ack")?.payload as Record<string, unknown>;

// ── capacity ────────────────────────────────────────────────────────────────

Deno.test("a client past max_clients is refused with server_full, and one leaving frees its place", () => {
  const { sessions, connect } = setup({ maxClients: 2 });
  const a = connect("10.0.0.1");
  connect("10.0.0.2");
  const c = connect("10.0.0.3");
  sessions.requestAudio("10.0.0.1", 5004, a.session.id);
  sessions.requestAudio("10.0.0.2", 5004, undefined);
  assertErrorCode(
    () => sessions.requestAudio("10.0.0.3", 5004, c.session.id),
    "server_full",
    /2 of 2/,
  );
  assert.equal(c.session.udpPort, null);

  sessions.closed(a.session);
  const ok = sessions.requestAudio("10.0.0.3", 5004, c.session.id);
  assert.equal(ok.client_id, c.session.id);
});

Deno.test("connected sessions without a destination do not take a streaming place", () => {
  const { sessions, connect } = setup({ maxClients: 1 });
  for (let i = 0; i < 5; i++) connect(`10.0.1.${i}`);
  const last = connect("10.0.2.1");
  assert.equal(sessions.requestAudio("10.0.2.1", 6000, last.session.id).status, "ok");
});

Deno.test("DataChannel and WebTransport listeners count toward max_clients like UDP ports", () => {
  const { sessions, connect } = setup({ maxClients: 2 });
  const udp = connect("10.0.0.1");
  const dc = connect("10.0.0.2", "datachannel");
  const wt = connect("10.0.0.3", "webtransport");
  sessions.requestAudio("10.0.0.1", 5004, udp.session.id);
  sessions.attachSender(dc.session, browserSender());
  assertErrorCode(() => sessions.attachSender(wt.session, browserSender(1150)), "server_full");
  assert.equal(wt.session.sender, null);
  // A UDP client is refused too once browsers fill the places.
  const late = connect("10.0.0.4");
  assertErrorCode(() => sessions.requestAudio("10.0.0.4", 5004, late.session.id), "server_full");
});

Deno.test("a session that already has a destination may move it while the server is full", () => {
  const { sessions, connect, engine } = setup({ maxClients: 1 });
  const a = connect("10.0.0.1");
  sessions.requestAudio("10.0.0.1", 5004, a.session.id);
  sessions.configure(a.session, {});
  sessions.requestAudio("10.0.0.1", 5006, a.session.id);
  assert.equal(engine.streams.get(a.session.id)?.port, 5006);
  // A browser session swapping its transport (DataChannel reconnect) keeps its place too.
  const b = setup({ maxClients: 1 });
  const s = b.connect("10.0.0.2", "datachannel");
  b.sessions.attachSender(s.session, browserSender());
  b.sessions.attachSender(s.session, browserSender());
  assert.equal(b.sessions.list().length, 1);
});

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

Deno.test("client_config naming an unmapped, disabled or absent channel is invalid_payload", () => {
  const { sessions, connect } = setup({ channels: shuffledMapping(), deviceChannels: 6 });
  const { session, socket } = connect();
  for (const id of [4, 7, 33]) {
    assertErrorCode(
      () => sessions.configure(session, { channels: [{ id: 1 }, { id }] }),
      "invalid_payload",
      new RegExp(`channel ${id} is not mapped`),
    );
  }
  assert.equal(session.requested, null);
  assert.equal(socket.last("client_config_ack"), undefined);
});

Deno.test("client_config on a server with no mapped channel is invalid_payload", () => {
  const none = defaultChannels().map((c) => ({ ...c, enabled: false }));
  const { sessions, connect } = setup({ channels: none });
  const { session } = connect();
  assertErrorCode(() => sessions.configure(session, {}), "invalid_payload", /no channel/);
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

Deno.test("Opus asked of a server without libopus is invalid_payload", () => {
  const { sessions, connect } = setup({ opus: false });
  const { session } = connect();
  assertErrorCode(
    () => sessions.configure(session, { compression: "opus" }),
    "invalid_payload",
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

// ── requestAudio ────────────────────────────────────────────────────────────

Deno.test("request-audio for another address's client_id is address_mismatch; unknown is no_session", () => {
  const { sessions, connect, engine } = setup();
  const { session } = connect("10.0.0.1");
  sessions.configure(session, {});
  assertErrorCode(
    () => sessions.requestAudio("10.0.0.66", 5004, session.id),
    "address_mismatch",
  );
  assert.equal(session.udpPort, null);
  assert.equal(engine.streams.size, 0);
  assertErrorCode(() => sessions.requestAudio("10.0.0.1", 5004, "c99-x"), "no_session");
});

Deno.test("request-audio without client_id takes the newest waiting session of that address only", () => {
  const { sessions, connect, engine } = setup();
  connect("10.0.0.1");
  const newer = connect("10.0.0.1");
  connect("10.0.0.2");
  const r = sessions.requestAudio("10.0.0.1", 5004, undefined);
  assert.equal(r.client_id, newer.session.id);
  sessions.configure(newer.session, {});
  assert.deepEqual(
    [engine.streams.get(newer.session.id)?.hostname, engine.streams.get(newer.session.id)?.port],
    ["10.0.0.1", 5004],
  );
  assertErrorCode(() => sessions.requestAudio("10.0.0.3", 5004, undefined), "no_session");
});

Deno.test("request-audio answers the SSRC and an SDP pointing at the asking port", () => {
  const { sessions, connect } = setup();
  const { session } = connect("10.0.0.1");
  const r = sessions.requestAudio("10.0.0.1", 5010, session.id);
  assert.equal(r.ssrc, session.ssrc >>> 0);
  assert.match(r.sdp, /^m=audio 5010 RTP\/AVP /m);
  assert.match(r.sdp, /^c=IN IP4 192\.0\.2\.1$/m);
});

// ── heartbeat sweep ─────────────────────────────────────────────────────────

Deno.test("a session silent for heartbeat_timeout is ended with 4000; one that pinged is kept", () => {
  const { sessions, connect, clock, engine } = setup({ heartbeatS: 30 });
  const quiet = connect("10.0.0.1");
  const alive = connect("10.0.0.2");
  for (const c of [quiet, alive]) {
    sessions.requestAudio(c.session.ip, 5004, c.session.id);
    sessions.configure(c.session, {});
  }
  assert.equal(quiet.socket.last("welcome")?.heartbeat_timeout_s, 30);
  clock.advance(20_000);
  sessions.touch(alive.session); // what a heartbeat frame does
  clock.advance(10_000);
  assert.equal(sessions.sweep(), 0, "exactly the timeout is not yet over it");
  clock.advance(1);
  assert.equal(sessions.sweep(), 1);
  assert.equal(quiet.socket.closedWith?.code, CLOSE_HEARTBEAT_TIMEOUT);
  assert.match(quiet.socket.closedWith!.reason, /no heartbeat for 30 s/);
  assert.equal(quiet.session.closed, true);
  assert.equal(engine.streams.has(quiet.session.id), false);
  assert.equal(alive.socket.closedWith?.code, undefined);
  assert.deepEqual(sessions.list().map((s) => s.id), [alive.session.id]);

  clock.advance(20_000);
  assert.equal(sessions.sweep(), 1, "the kept one times out 30 s after its own last ping");
  assert.equal(alive.socket.closedWith?.code, CLOSE_HEARTBEAT_TIMEOUT);
});

Deno.test("every contact (request-audio, attach) counts as a sign of life for the sweep", () => {
  const { sessions, connect, clock } = setup({ heartbeatS: 5 });
  const a = connect("10.0.0.1");
  const b = connect("10.0.0.2", "datachannel");
  clock.advance(4_000);
  sessions.requestAudio("10.0.0.1", 5004, a.session.id);
  sessions.attachSender(b.session, browserSender());
  clock.advance(4_000);
  assert.equal(sessions.sweep(), 0);
  clock.advance(1_001);
  assert.equal(sessions.sweep(), 2);
});

// ── ending ──────────────────────────────────────────────────────────────────

Deno.test("endAll tells every session why, closes it with 4001 and stops every stream", () => {
  const { sessions, connect, engine, streamingChanges } = setup();
  const all = [connect("10.0.0.1"), connect("10.0.0.2"), connect("10.0.0.3")];
  for (const c of all.slice(0, 2)) {
    sessions.requestAudio(c.session.ip, 5004, c.session.id);
    sessions.configure(c.session, {});
  }
  const before = streamingChanges();
  const event = { type: "config_changed", reason: "sample rate" };
  assert.equal(sessions.endAll("configuration changed", event), 3);
  for (const c of all) {
    assert.deepEqual(c.socket.last("event"), { type: "event", payload: event });
    assert.equal(c.socket.closedWith?.code, CLOSE_ENDED_BY_SERVER);
  }
  assert.equal(engine.streams.size, 0);
  assert.equal(sessions.list().length, 0);
  assert.equal(streamingChanges() - before, 2, "one change per stream that stopped");
  // An ended session sends nothing more, and ending it twice is harmless.
  const n = all[0].socket.sent.length;
  all[0].session.send({ type: "heartbeat_ack" });
  sessions.end(all[0].session, "again");
  assert.equal(all[0].socket.sent.length, n);
});

Deno.test("a client closing its WebSocket ends its session with 1000 and frees its stream", () => {
  const { sessions, connect, engine } = setup();
  const { session, socket } = connect();
  sessions.requestAudio(session.ip, 5004, session.id);
  sessions.configure(session, {});
  sessions.closed(session);
  assert.equal(socket.closedWith?.code, CLOSE_NORMAL);
  assert.equal(engine.streams.size, 0);
  assert.equal(sessions.get(session.id), undefined);
});

Deno.test("a socket that throws on send does not break the session manager", () => {
  const { sessions } = setup();
  const broken: SessionTransport = {
    send() {
      throw new Error("socket gone");
    },
    close() {
      throw new Error("socket gone");
    },
  };
  const s: ClientSession = sessions.open("10.0.0.1", broken);
  sessions.configure(s, {});
  sessions.end(s, "bye");
  assert.equal(sessions.list().length, 0);
});
