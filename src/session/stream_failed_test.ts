import assert from "node:assert/strict";
import { SessionManager, type SessionTransport } from "./sessions.ts";
import { StreamingEngine } from "./engine.ts";
import { type Config, DEFAULT_CONFIG, defaultChannels } from "../config/types.ts";
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";
import { ManualClock, SeededRandom } from "../util/clock.ts";
import { getLogger } from "../util/log.ts";
import type { Period } from "../audio/source.ts";

/** A browser transport as the engine sees it; `broken` makes every commit throw. */
class ChannelDouble implements PacketSender {
  readonly kind = "double";
  readonly localPort = 0;
  readonly maxDatagramBytes = 1400;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  packets = 0;
  private readonly buf = new Uint8Array(1400);
  constructor(private readonly broken: boolean) {}
  destination(hostname: string, port: number): UdpDestination {
    return { hostname, port };
  }
  slot(): Uint8Array {
    return this.buf;
  }
  commit(): void {
    if (this.broken) throw new Error("DataChannel send on a closed channel");
    this.packets++;
  }
  flush(): void {}
  setDscp(): void {}
  close(): void {}
}

class SocketDouble implements SessionTransport {
  readonly messages: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  send(text: string): void {
    this.messages.push(JSON.parse(text));
  }
  close(code: number): void {
    this.closedWith = code;
  }
}

function idPeriod(frameIndex: number): Period {
  const data = new Int32Array(240 * 32);
  for (let i = 0; i < data.length; i++) data[i] = ((i % 32) + 1) << 8;
  return { data, frames: 240, channels: 32, sampleRate: 48000, frameIndex, captureTimeMs: 0 };
}

Deno.test("a client whose transport throws gets a reconnect event and its session ends; the other keeps streaming", () => {
  const clock = new ManualClock();
  const config: Config = structuredClone({ ...DEFAULT_CONFIG, config_version: 1 });
  const engine = new StreamingEngine({
    sender: new ChannelDouble(false),
    clock,
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    log: getLogger("engine"),
    onClientError: (id, e) => sessions.streamFailed(id, e),
  });
  const sessions: SessionManager = new SessionManager({
    clock,
    random: new SeededRandom(),
    log: getLogger("session"),
    engine,
    config: () => config,
    channels: defaultChannels,
    deviceChannels: () => 32,
    canProduceRate: (r) => r === 48000,
    opusAvailable: () => false,
    serverIpFor: () => "127.0.0.1",
    onStreamingChange: () => {},
  });
  const open = (broken: boolean) => {
    const socket = new SocketDouble();
    const s = sessions.open("127.0.0.1", socket, "datachannel");
    const channel = new ChannelDouble(broken);
    sessions.attachSender(s, channel);
    sessions.configure(s, { channels: [{ id: 1 }] });
    return { s, socket, channel };
  };
  const bad = open(true);
  const good = open(false);
  for (let k = 0; k < 3; k++) engine.onPeriod(idPeriod(k * 240));
  assert.equal(good.channel.packets, 3, "the healthy client got every period");
  assert.ok(!good.s.closed && good.socket.closedWith === null);
  assert.ok(bad.s.closed, "the failing client's session ended");
  assert.equal(bad.socket.closedWith, 4001);
  const event = bad.socket.messages.find((m) => m.type === "event")?.payload as {
    type: string;
    reason: string;
  };
  assert.equal(event.type, "reconnect");
  assert.match(event.reason, /DataChannel send on a closed channel/);
  assert.equal(engine.clients.size, 1);
});
