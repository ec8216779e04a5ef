import assert from "node:assert/strict";
import { ConfigStore } from "../config/store.ts";
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";
import { ManualClock, SeededRandom } from "../util/clock.ts";
import { getLogger } from "../util/log.ts";
import { StreamingEngine } from "./engine.ts";
import { parseUdpPort, SessionError, type SessionErrorCode } from "./errors.ts";
import { SessionManager, type SessionTransport } from "./sessions.ts";

class NullSender implements PacketSender {
  readonly kind = "null";
  readonly localPort = 5004;
  readonly maxDatagramBytes = 1400;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  private readonly buf = new Uint8Array(1400);
  destination(hostname: string, port: number): UdpDestination {
    return { hostname, port };
  }
  slot(): Uint8Array {
    return this.buf;
  }
  commit(): void {}
  flush(): void {}
  setDscp(): void {}
  close(): void {}
}

const silent: SessionTransport = { send() {}, close() {} };

function manager(store: ConfigStore) {
  const clock = new ManualClock();
  return new SessionManager({
    clock,
    random: new SeededRandom(7),
    log: getLogger("test"),
    engine: new StreamingEngine({
      sender: new NullSender(),
      clock,
      extIntervalMs: 5000,
      maxDatagramBytes: 1400,
    }),
    config: () => store.get(),
    channels: () => store.getChannels(),
    deviceChannels: () => 32,
    canProduceRate: (rate) => rate === 48000,
    opusAvailable: () => false,
    serverIpFor: () => "10.0.0.1",
    onStreamingChange() {},
  });
}

/** The refusal `fn` throws: a SessionError carrying no HTTP status. */
function refusal(fn: () => unknown): SessionErrorCode {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SessionError, `a SessionError, got ${e}`);
    assert.equal("status" in e, false, "the session layer knows no HTTP status");
    return e.code;
  }
  assert.fail("no refusal");
}

Deno.test("the session layer refuses by name: no_session, address_mismatch, server_full", () => {
  const store = new ConfigStore(":memory:");
  store.patch({ network: { max_clients: 1 } });
  const sessions = manager(store);
  assert.equal(refusal(() => sessions.requestAudio("10.0.0.5", 5004, undefined)), "no_session");
  assert.equal(refusal(() => sessions.requestAudio("10.0.0.5", 5004, "c9-x")), "no_session");
  const a = sessions.open("10.0.0.5", silent);
  assert.equal(refusal(() => sessions.requestAudio("10.0.0.6", 5004, a.id)), "address_mismatch");
  sessions.requestAudio("10.0.0.5", 5004, a.id);
  const b = sessions.open("10.0.0.7", silent);
  assert.equal(refusal(() => sessions.requestAudio("10.0.0.7", 5006, b.id)), "server_full");
  store.close();
});

Deno.test("the session layer refuses a client_config by name: unmapped_channel, no_mapped_channel, opus_unavailable", () => {
  const store = new ConfigStore(":memory:");
  const sessions = manager(store);
  const s = sessions.open("10.0.0.5", silent);
  const ch = store.getChannels();
  ch[6].enabled = false;
  store.setChannels(ch);
  assert.equal(refusal(() => sessions.configure(s, { channels: [{ id: 7 }] })), "unmapped_channel");
  assert.equal(refusal(() => sessions.configure(s, { compression: "opus" })), "opus_unavailable");
  store.setChannels(ch.map((c) => ({ ...c, enabled: false })));
  assert.equal(refusal(() => sessions.configure(s, {})), "no_mapped_channel");
  store.close();
});

Deno.test("a UDP destination port is 1024–65535, written as digits, else invalid_port", () => {
  assert.equal(parseUdpPort("5004"), 5004);
  assert.equal(parseUdpPort("1024"), 1024);
  assert.equal(parseUdpPort("65535"), 65535);
  for (const raw of [undefined, "", "80", "70000", "abc", "5004.5", "-1", " 5004"]) {
    assert.equal(refusal(() => parseUdpPort(raw)), "invalid_port", String(raw));
  }
});
