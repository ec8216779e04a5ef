/**
 * The admin page's live feed (`/api/admin/live`, WebSocket, admin session
 * required). Server → page only, one JSON object per text frame:
 *
 *   {"type":"hello","history":[HistoryPoint…]}              once, on open
 *   {"type":"snapshot","time":<ms>,"status":{…},"clients":[ClientView…],
 *    "point":HistoryPoint|null}                            every second and on changes
 *
 * The socket closes with 4401 when its admin session ends (logout, expiry,
 * password change elsewhere). Also samples the QoS history for the charts.
 */
import type { WSContext, WSEvents } from "hono/ws";
import type { ServerContext } from "../http/context.ts";
import { logConfig, type LogRecord } from "../util/log.ts";
import type { AdminAuth } from "./auth.ts";
import { HISTORY_INTERVAL_MS, QosHistory, samplePoint } from "./history.ts";
import { clientsView, statusView } from "./views.ts";

export const LIVE_INTERVAL_MS = 1000;
export const CLOSE_SESSION_ENDED = 4401;
const CLOSE_GOING_AWAY = 1001;

interface LiveSocket {
  ws: WSContext;
  sessionId: string;
}

export class LiveHub {
  readonly history = new QosHistory();
  private readonly sockets = new Set<LiveSocket>();
  private readonly sampleTimer: ReturnType<typeof setInterval>;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private pushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly unsubscribe: () => void;
  private readonly onLog = (r: LogRecord) => {
    if (r.level === "warn" || r.level === "error") this.pushSoon();
  };
  private closed = false;

  constructor(private readonly ctx: ServerContext, private readonly auth: AdminAuth) {
    this.sampleTimer = setInterval(
      () => this.history.push(samplePoint(ctx.sessions.list(), ctx.clock.now())),
      HISTORY_INTERVAL_MS,
    );
    this.unsubscribe = ctx.store.onChange(() => this.pushSoon());
    logConfig.listeners.add(this.onLog);
  }

  get connections(): number {
    return this.sockets.size;
  }

  snapshot() {
    return {
      type: "snapshot",
      time: Math.round(this.ctx.clock.now()),
      status: statusView(this.ctx),
      clients: clientsView(this.ctx),
      point: this.history.latest,
    };
  }

  /** Handlers for one admin WebSocket (the session was checked before the upgrade). */
  attach(sessionId: string): WSEvents {
    let sock: LiveSocket | null = null;
    return {
      onOpen: (_evt, ws) => {
        if (this.closed) return ws.close(CLOSE_GOING_AWAY, "server shutting down");
        sock = { ws, sessionId };
        this.sockets.add(sock);
        this.send(sock, { type: "hello", history: this.history.all() });
        this.send(sock, this.snapshot());
        this.tickTimer ??= setInterval(() => this.tick(), LIVE_INTERVAL_MS);
      },
      onClose: () => this.drop(sock),
      onError: () => this.drop(sock),
    };
  }

  /** Closes the sockets of an ended admin session (logout). */
  endSession(sessionId: string): void {
    for (const s of [...this.sockets]) {
      if (s.sessionId === sessionId) this.closeSocket(s, CLOSE_SESSION_ENDED, "logged out");
    }
  }

  /** Pushes a snapshot now-ish, coalescing bursts of changes into one. */
  pushSoon(): void {
    if (this.closed || this.sockets.size === 0 || this.pushTimer !== null) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      this.broadcast();
    }, 0);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sampleTimer);
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.pushTimer !== null) clearTimeout(this.pushTimer);
    this.tickTimer = this.pushTimer = null;
    this.unsubscribe();
    logConfig.listeners.delete(this.onLog);
    for (const s of [...this.sockets]) {
      this.closeSocket(s, CLOSE_GOING_AWAY, "server shutting down");
    }
  }

  private tick(): void {
    for (const s of [...this.sockets]) {
      if (!this.auth.sessions.get(s.sessionId)) {
        this.closeSocket(s, CLOSE_SESSION_ENDED, "admin session ended");
      }
    }
    this.broadcast();
  }

  private broadcast(): void {
    if (this.sockets.size === 0) return;
    const text = JSON.stringify(this.snapshot());
    for (const s of this.sockets) this.sendText(s, text);
  }

  private send(s: LiveSocket, msg: unknown): void {
    this.sendText(s, JSON.stringify(msg));
  }

  private sendText(s: LiveSocket, text: string): void {
    try {
      s.ws.send(text);
    } catch {
      this.drop(s);
    }
  }

  private closeSocket(s: LiveSocket, code: number, reason: string): void {
    this.drop(s);
    try {
      s.ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  private drop(s: LiveSocket | null): void {
    if (!s) return;
    this.sockets.delete(s);
    if (this.sockets.size === 0 && this.tickTimer !== null) {
      clearInterval(this.tickTimer);
      this.tickTimer = null;
    }
  }
}
