/**
 * One WebSocket to the server's `/ws` (contract §4), over the web-standard
 * WebSocket (Deno and browsers). Every frame is parsed with
 * `parseServerMessage` and handed to `onMessage`; `next(type)` waits for the
 * first message of a type (a `welcome` or ack that came early is kept for it).
 */

import { parseServerMessage, ProtocolError, type ServerMessage } from "./messages.ts";

type Waiter = { resolve: (m: ServerMessage) => void; reject: (e: Error) => void };

export class WsLink {
  /** Resolves when the socket is closed, from either side. */
  readonly closed: Promise<void>;
  closeCode = 0;
  closeReason = "";
  private readonly ws: WebSocket;
  private readonly waiters = new Map<string, Waiter>();
  private readonly early = new Map<string, ServerMessage>();
  private isClosed = false;

  constructor(
    url: string,
    private readonly onMessage: (m: ServerMessage) => void,
    private readonly onBadFrame: (e: Error) => void,
  ) {
    this.ws = new WebSocket(url);
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (ev) => {
        this.isClosed = true;
        this.closeCode = ev.code;
        this.closeReason = ev.reason;
        const err = new Error(
          `WebSocket closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ""})`,
        );
        for (const w of this.waiters.values()) w.reject(err);
        this.waiters.clear();
        resolve();
      };
    });
    this.ws.onerror = () => {}; // a close event follows; its code says what happened
    this.ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        this.onBadFrame(new ProtocolError("server sent a binary WebSocket frame"));
        return;
      }
      let m: ServerMessage;
      try {
        m = parseServerMessage(ev.data);
      } catch (e) {
        this.onBadFrame(e as Error);
        return;
      }
      const w = this.waiters.get(m.type);
      if (w) {
        this.waiters.delete(m.type);
        w.resolve(m);
      } else if (m.type === "welcome" || m.type === "client_config_ack") {
        this.early.set(m.type, m);
      }
      this.onMessage(m);
    };
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Waits for the next message of `type`; rejects on close or after `timeoutMs`. */
  next<T extends ServerMessage["type"]>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const got = this.early.get(type);
    if (got) {
      this.early.delete(type);
      return Promise.resolve(got as Extract<ServerMessage, { type: T }>);
    }
    if (this.isClosed) return Promise.reject(new Error(`WebSocket closed before ${type}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(type);
        reject(new Error(`no ${type} from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(type, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<ServerMessage, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Fails a pending `next(type)` (e.g. the server answered with an `error`). */
  fail(type: string, e: Error): void {
    const w = this.waiters.get(type);
    if (w) {
      this.waiters.delete(type);
      w.reject(e);
    }
  }

  send(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  close(code = 1000, reason = ""): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code, reason);
    }
    return this.closed;
  }
}
