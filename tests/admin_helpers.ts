/** Shared helpers for the admin integration tests: a real server, login, WebSocket clients. */
import { type RunningServer, startServer } from "../src/server.ts";

export const PASSWORD = "stage-left-42";
/** A guard against hangs, not a performance assertion. */
export const WAIT_MS = 10_000;

export async function startAdminServer(
  dataDir?: string,
  adminPassword = PASSWORD,
): Promise<{ server: RunningServer; dataDir: string }> {
  const dir = dataDir ?? (await Deno.makeTempDir({ prefix: "m32-admin-" }));
  const server = await startServer({
    httpPort: 0,
    rtpPort: 0,
    hostname: "127.0.0.1",
    dataDir: dir,
    source: "test",
    sender: "deno",
    adminPassword,
  });
  return { server, dataDir: dir };
}

/** Logs in and returns the Cookie header value ("m32_admin=…"). */
export async function login(base: string, password = PASSWORD): Promise<string> {
  const res = await fetch(`${base}/api/admin/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password }),
  });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${body}`);
  const cookie = res.headers.get("set-cookie") ?? "";
  return cookie.split(";")[0];
}

export interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: { cookie?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A WebSocket that queues JSON messages and lets a test wait for one. */
export class JsonSocket {
  // deno-lint-ignore no-explicit-any
  readonly messages: any[] = [];
  // deno-lint-ignore no-explicit-any
  private waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  readonly closed: Promise<CloseEvent>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => ws.addEventListener("close", (e) => resolve(e)));
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data));
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async open(url: string, headers?: Record<string, string>): Promise<JsonSocket> {
    const s = new JsonSocket(
      new WebSocket(url, headers ? ({ headers } as unknown as string[]) : undefined),
    );
    await s.opened;
    return s;
  }

  // deno-lint-ignore no-explicit-any
  next(pred: (m: any) => boolean, what: string): Promise<any> {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found);
    return withTimeout(
      new Promise((resolve) => this.waiters.push({ pred, resolve })),
      `waiting for ${what}`,
    );
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close();
    await withTimeout(this.closed, "WebSocket close");
  }
}

export function withTimeout<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

/** Phones' User-Agents, for the admin page's device labels. */
export const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
export const PIXEL_UA =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";

/**
 * Opens /ws (as `userAgent` when given), asks for audio to a local UDP socket,
 * sends client_config and waits for the ack.
 */
export async function streamingClient(base: string, userAgent?: string): Promise<{
  sock: JsonSocket;
  udp: Deno.DatagramConn;
  clientId: string;
  close(): Promise<void>;
}> {
  const udp = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const port = (udp.addr as Deno.NetAddr).port;
  const sock = await JsonSocket.open(
    wsUrl(base, "/ws"),
    userAgent ? { "user-agent": userAgent } : undefined,
  );
  const welcome = await sock.next((m) => m.type === "welcome", "welcome");
  const res = await fetch(`${base}/request-audio?udp_port=${port}&client_id=${welcome.client_id}`);
  if (res.status !== 200) {
    throw new Error(`/request-audio answered ${res.status}: ${await res.text()}`);
  }
  await res.body?.cancel();
  sock.send({ type: "client_config", payload: { channels: [], compression: "none" } });
  await sock.next((m) => m.type === "client_config_ack", "client_config_ack");
  return {
    sock,
    udp,
    clientId: welcome.client_id,
    close: async () => {
      await sock.close();
      udp.close();
    },
  };
}
