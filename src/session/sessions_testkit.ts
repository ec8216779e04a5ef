/**
 * Fakes for SessionManager's unit tests: an engine that records the streams
 * asked for, WebSockets that record what they were sent, a browser transport,
 * and a SessionEnv on a ManualClock. No server, no network, no real time.
 */
import assert from "node:assert/strict";
import { type SessionEngine, SessionManager, type SessionTransport } from "./sessions.ts";
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

const silentLog: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLog,
};

/** Records which streams the sessions ask for; a stream is only its parameters here. */
export class FakeEngine implements SessionEngine {
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
export class FakeSocket implements SessionTransport {
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
export function browserSender(maxDatagramBytes = 1400): PacketSender {
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

export interface Setup {
  maxClients?: number;
  heartbeatS?: number;
  sampleRate?: number;
  channels?: ChannelConfig[];
  deviceChannels?: number;
  producible?: number[];
  opus?: boolean;
}

export function setup(o: Setup = {}) {
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
export function assertErrorCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: unknown }).code, code, String(e));
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

export const ackOf = (socket: FakeSocket) =>
  socket.last("client_config_ack")?.payload as Record<string, unknown>;
