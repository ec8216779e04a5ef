/**
 * The listener WebSocket (`/listen?transport=websocket|datachannel`): the
 * contract's `/ws` session (docs/protocol.md §4 — welcome, heartbeat,
 * client_config, ntp_request, events; same handler) for a browser that
 * cannot receive UDP. Its RTP arrives over a transport of the session's own:
 *
 *   websocket    one RTP packet per binary frame on this socket; the session
 *                has its destination as soon as the socket opens
 *   datachannel  signalling on this socket (webrtc_offer → webrtc_answer),
 *                then one RTP packet per DataChannel message; the session has
 *                its destination once the channel opens
 *   webtransport (HTTPS only) webtransport_connect → webtransport_token on
 *                this socket, then one RTP packet per WebTransport datagram
 *                (./webtransport.ts); the session has its destination once the
 *                WebTransport session presents the token
 *
 * Either way the session counts toward max_clients, streams once its
 * `client_config` is known, and shows its transport in the admin client list.
 * A full server answers `{"type":"error","code":"server_full"}` and closes
 * with 1013 (try again later). A handler that throws (a bug, a dependency that
 * fails) costs only its own client: logged, answered
 * `{"type":"error","code":"internal_error"}` and closed with 1011 — never an
 * exception escaping into the runtime's event dispatch.
 */
import type { WSContext, WSEvents, WSMessageReceive } from "hono/ws";
import type { ListenerContext } from "../http/context.ts";
import { handleClientFrame } from "../http/ws.ts";
import { SessionError } from "../session/errors.ts";
import { ListenerSignal, parseWith } from "../http/schemas.ts";
import type { ClientSession } from "../session/sessions.ts";
import { ChannelSender, type PacketChannel } from "./channel_sender.ts";
import { DATACHANNEL_MAX_DATAGRAM_BYTES, WebRtcPeer } from "./webrtc_peer.ts";
import {
  type BoundSession,
  WEBTRANSPORT_MAX_DATAGRAM_BYTES,
  type WebTransportServer,
} from "./webtransport.ts";

export type ListenerTransport = "websocket" | "datachannel" | "webtransport";
export const LISTENER_TRANSPORTS: readonly ListenerTransport[] = [
  "websocket",
  "datachannel",
  "webtransport",
];

/** WebSocket close code 1013: "try again later" (RFC 6455 registry). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** WebSocket close code 1011: the server met an unexpected condition (RFC 6455 §7.4.1). */
export const CLOSE_INTERNAL_ERROR = 1011;
/** Largest offer SDP accepted (Chromium's data-only offers are ~1 KiB). */
const WS_OPEN = 1;

/** The WebSocket as a packet channel: binary frames, backlog from `bufferedAmount`. */
export function websocketChannel(ws: WSContext): PacketChannel {
  const raw = ws.raw as WebSocket | undefined;
  return {
    send: (bytes) => ws.send(bytes as Uint8Array<ArrayBuffer>),
    get bufferedAmount() {
      return raw?.bufferedAmount ?? 0;
    },
    get open() {
      return ws.readyState === WS_OPEN;
    },
  };
}

export interface ListenerSocketOptions {
  ip: string;
  transport: ListenerTransport;
  /** The server address the page reached (a host ICE candidate for the DataChannel). */
  hostAddress: string;
  /** The WebTransport endpoint (HTTPS on), else null. */
  webtransport?: WebTransportServer | null;
  /** The page's User-Agent (the admin page labels phones by it). */
  userAgent?: string | null;
}

export function attachListenerSocket(ctx: ListenerContext, opts: ListenerSocketOptions): WSEvents {
  let session: ClientSession | null = null;
  let socket: WSContext | null = null;
  let peer: WebRtcPeer | null = null;
  let wtSession: BoundSession | null = null;
  let wtBind: ((b: BoundSession) => void) | null = null;
  const maxBytes = () => ctx.config().audio.max_datagram_bytes;
  const closeTransports = (reason: string) => {
    peer?.close();
    if (wtBind) opts.webtransport?.revoke(wtBind);
    wtSession?.close(reason);
    wtSession = null;
  };

  /** A handler threw: log it, tell this client `internal_error`, close only it (1011). */
  const failed = (where: string, e: unknown) => {
    const s = session;
    ctx.log.error("listener handler threw; closing that client", {
      client: s?.id,
      transport: opts.transport,
      where,
      error: e instanceof Error ? e : String(e),
    });
    const error = {
      type: "error",
      code: "internal_error",
      message: "the server failed handling this session; reconnect",
    };
    try {
      if (s && !s.closed) {
        s.send(error);
        ctx.sessions.end(s, `internal error in ${where}`, undefined, CLOSE_INTERNAL_ERROR);
      } else if (!s) {
        // Failed before its session existed (opening it threw).
        closeTransports("internal error");
        socket?.send(JSON.stringify(error));
        socket?.close(CLOSE_INTERNAL_ERROR, "internal error");
      }
    } catch (e2) {
      ctx.log.error("closing a failed listener client threw", { where, error: e2 as Error });
    }
  };
  /** `fn` for an event or promise callback: whatever it throws goes to `failed`. */
  const guarded =
    <A extends unknown[]>(where: string, fn: (...args: A) => void) => (...args: A): void => {
      try {
        fn(...args);
      } catch (e) {
        failed(where, e);
      }
    };

  const attach = (s: ClientSession, channel: PacketChannel) => {
    const max = Math.min(maxBytes(), s.maxDatagramBytes ?? Infinity);
    try {
      ctx.sessions.attachSender(s, new ChannelSender(opts.transport, channel, max));
    } catch (e) {
      if (!(e instanceof SessionError)) throw e;
      s.send({ type: "error", code: e.code, message: e.message });
      ctx.sessions.end(s, e.message, undefined, CLOSE_TRY_AGAIN_LATER);
    }
  };

  /** `webtransport_connect`: a one-time token the page's WebTransport session presents. */
  const onWebTransport = (s: ClientSession) => {
    const server = opts.webtransport;
    if (!server) {
      s.send({
        type: "error",
        code: "webtransport_unavailable",
        message: "WebTransport needs HTTPS, which is off on this server",
      });
      return;
    }
    const bind = (b: BoundSession) => {
      if (s.closed) return b.close("session ended");
      wtSession?.close("replaced by a new WebTransport session");
      wtSession = b;
      b.closed.then(guarded("webtransport close", (reason: string) => {
        if (wtSession === b && !s.closed) ctx.sessions.end(s, `webtransport ${reason}`);
      }));
      attach(s, b.channel);
    };
    if (wtBind) server.revoke(wtBind);
    wtBind = bind;
    s.send({ type: "webtransport_token", token: server.issueToken(opts.ip, bind) });
  };

  const onSignal = (s: ClientSession, raw: Record<string, unknown>) => {
    ctx.sessions.touch(s);
    const type = String(raw.type);
    const wanted = type.startsWith("webtransport_") ? "webtransport" : "datachannel";
    if (
      (type !== "webtransport_connect" && type !== "webrtc_offer") || opts.transport !== wanted
    ) {
      s.send({
        type: "error",
        code: "unknown_type",
        message: `${type} is only accepted on /listen?transport=${wanted}`,
      });
      return;
    }
    const parsed = parseWith(ListenerSignal, raw);
    if (!parsed.ok) {
      s.send({ type: "error", code: "invalid_payload", message: parsed.message });
      return;
    }
    const msg = parsed.value;
    if (msg.type === "webtransport_connect") return onWebTransport(s);
    peer?.close();
    const p = new WebRtcPeer(opts.hostAddress, {
      onOpen: guarded("datachannel open", (channel: PacketChannel) => {
        if (peer === p && !s.closed) attach(s, channel);
      }),
      onClose: guarded("datachannel close", (reason: string) => {
        if (peer === p && !s.closed) ctx.sessions.end(s, `datachannel: ${reason}`);
      }),
    });
    peer = p;
    p.answer(msg.sdp).then(
      guarded("webrtc answer", (sdp: string) => s.send({ type: "webrtc_answer", sdp })),
      guarded("webrtc answer", (e: unknown) => {
        ctx.log.warn("webrtc offer failed", { client: s.id, error: e as Error });
        s.send({ type: "error", code: "invalid_payload", message: "the WebRTC offer was refused" });
      }),
    );
  };

  return {
    onOpen: guarded("open", (_evt: Event, ws: WSContext) => {
      socket = ws;
      const s = ctx.sessions.open(
        opts.ip,
        {
          send: (text) => ws.send(text),
          close: (code, reason) => {
            closeTransports(reason);
            ws.close(code, reason);
          },
        },
        opts.transport,
        opts.userAgent ?? null,
      );
      session = s;
      if (opts.transport === "webtransport") s.maxDatagramBytes = WEBTRANSPORT_MAX_DATAGRAM_BYTES;
      if (opts.transport === "datachannel") s.maxDatagramBytes = DATACHANNEL_MAX_DATAGRAM_BYTES;
      if (opts.transport === "websocket") attach(s, websocketChannel(ws));
    }),
    onMessage: guarded("message", (evt: MessageEvent<WSMessageReceive>) => {
      const s = session;
      if (!s || s.closed) return;
      const data = evt.data;
      // Signalling is ours; every other frame is the contract's, handled as on /ws.
      if (
        typeof data === "string" && (data.includes('"webrtc_') || data.includes('"webtransport_'))
      ) {
        let msg: unknown;
        try {
          msg = JSON.parse(data);
        } catch {
          msg = null;
        }
        const type = (msg as { type?: unknown } | null)?.type;
        if (
          typeof type === "string" &&
          (type.startsWith("webrtc_") || type.startsWith("webtransport_"))
        ) {
          return onSignal(s, msg as Record<string, unknown>);
        }
      }
      handleClientFrame(ctx, s, data);
    }),
    onClose: guarded("close", () => {
      closeTransports("the control WebSocket closed");
      if (session) ctx.sessions.closed(session);
    }),
    onError: guarded("error", () => {
      closeTransports("the control WebSocket failed");
      if (session) ctx.sessions.closed(session);
    }),
  };
}
