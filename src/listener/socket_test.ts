import assert from "node:assert/strict";
import type { WSContext, WSEvents, WSMessageReceive } from "hono/ws";
import { attachListenerSocket, CLOSE_INTERNAL_ERROR } from "./socket.ts";
import type { WebTransportServer } from "./webtransport.ts";
import type { ServerContext } from "../http/context.ts";
import { SessionManager } from "../session/sessions.ts";
import { StreamingEngine } from "../session/engine.ts";
import { type Config, DEFAULT_CONFIG, defaultChannels } from "../config/types.ts";
import { ManualClock, SeededRandom } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { PacketSender } from "../net/sender.ts";

/** The page's side of one listener WebSocket. */
class PageSocket {
  readonly received: Record<string, unknown>[] = [];
  closed: { code?: number; reason?: string } | null = null;
  readonly ws = {
    send: (data: string) => this.received.push(JSON.parse(data)),
    close: (code?: number, reason?: string) => (this.closed = { code, reason }),
    readyState: 1,
    raw: undefined,
  } as unknown as WSContext;
}

function serverContext() {
  const clock = new ManualClock();
  const config: Config = structuredClone({ ...DEFAULT_CONFIG, config_version: 1 });
  const errors: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (m, f) => errors.push(`${m}: ${(f?.error as Error | undefined)?.message}`),
    child: () => log,
  };
  const engine = new StreamingEngine({
    sender: {} as PacketSender,
    clock,
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
  });
  const sessions = new SessionManager({
    clock,
    random: new SeededRandom(),
    log,
    engine,
    config: () => config,
    channels: defaultChannels,
    deviceChannels: () => 32,
    canProduceRate: () => true,
    opusAvailable: () => false,
    serverIpFor: () => "127.0.0.1",
    onStreamingChange: () => {},
  });
  const ctx = { clock, log, sessions, config: () => config } as unknown as ServerContext;
  return { ctx, sessions, errors };
}

/** A WebTransport endpoint whose token issuing fails (a dependency that throws). */
const brokenWebTransport = {
  issueToken: () => {
    throw new TypeError("token store is corrupt");
  },
  revoke: () => {},
} as unknown as WebTransportServer;

function connect(events: WSEvents, page: PageSocket): void {
  events.onOpen?.(new Event("open"), page.ws);
}

function message(events: WSEvents, page: PageSocket, data: string): void {
  events.onMessage?.(new MessageEvent<WSMessageReceive>("message", { data }), page.ws);
}

Deno.test("a listener handler that throws closes only that client with internal_error (1011); the server and the other client go on", () => {
  const { ctx, sessions, errors } = serverContext();
  const opts = {
    ip: "127.0.0.1",
    transport: "webtransport" as const,
    hostAddress: "127.0.0.1",
    webtransport: brokenWebTransport,
  };
  const failing = new PageSocket();
  const other = new PageSocket();
  const failingEvents = attachListenerSocket(ctx, opts);
  const otherEvents = attachListenerSocket(ctx, opts);
  connect(failingEvents, failing);
  connect(otherEvents, other);
  assert.equal(sessions.sessions.size, 2);

  message(failingEvents, failing, '{"type":"webtransport_connect"}');

  const error = failing.received.find((m) => m.type === "error");
  assert.deepEqual(error && { type: error.type, code: error.code }, {
    type: "error",
    code: "internal_error",
  });
  assert.deepEqual(failing.closed?.code, CLOSE_INTERNAL_ERROR);
  assert.equal(sessions.sessions.size, 1, "that session ended");
  assert.equal(errors.filter((e) => e.includes("token store is corrupt")).length, 1, errors.join());
  // The other client is untouched and still answered.
  assert.equal(other.closed, null);
  message(otherEvents, other, '{"type":"heartbeat","timestamp":"2026-01-01T00:00:00Z"}');
  assert.equal(other.received.at(-1)?.type, "heartbeat_ack");
  // Frames after the close are ignored, not thrown.
  message(failingEvents, failing, '{"type":"webtransport_connect"}');
  failingEvents.onClose?.(new CloseEvent("close"), failing.ws);
});

Deno.test("a listener socket whose session cannot even open is answered internal_error and closed with 1011", () => {
  const { ctx, errors } = serverContext();
  const broken = {
    ...ctx,
    sessions: {
      open: () => {
        throw new RangeError("session table is full of ghosts");
      },
    },
  } as unknown as ServerContext;
  const page = new PageSocket();
  const events = attachListenerSocket(broken, {
    ip: "127.0.0.1",
    transport: "websocket",
    hostAddress: "127.0.0.1",
  });
  connect(events, page);
  assert.equal(page.received[0]?.code, "internal_error");
  assert.equal(page.closed?.code, CLOSE_INTERNAL_ERROR);
  assert.equal(errors.filter((e) => e.includes("ghosts")).length, 1);
  message(events, page, '{"type":"heartbeat","timestamp":"2026-01-01T00:00:00Z"}');
});
