/**
 * systemd service notification (sd_notify(3), Type=notify): READY=1 once the
 * HTTP port listens, STATUS=… lines, WATCHDOG=1 every WATCHDOG_USEC/2 while the
 * event loop runs, STOPPING=1 on shutdown. Outside systemd (no NOTIFY_SOCKET)
 * every call is a no-op.
 *
 * Wire format: one datagram per message to the AF_UNIX socket named by
 * NOTIFY_SOCKET, newline-separated VAR=VALUE assignments, e.g.
 *   "READY=1\nSTATUS=serving on :8080\n"
 */
import { UnixDatagramSender } from "./unix_datagram.ts";

export const NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET";
export const WATCHDOG_USEC_ENV = "WATCHDOG_USEC";
export const WATCHDOG_PID_ENV = "WATCHDOG_PID";
const USEC_PER_MS = 1000;

/** Where messages go: a real socket, or a test double. */
export interface NotifyTransport {
  send(message: string): void;
  close(): void;
}

type Env = Pick<typeof Deno.env, "get">;

/**
 * The watchdog ping interval: half of WATCHDOG_USEC, or null when the watchdog
 * is off or meant for another process (WATCHDOG_PID names a different pid).
 */
export function watchdogIntervalMs(env: Env, pid: number): number | null {
  const usec = env.get(WATCHDOG_USEC_ENV);
  if (!usec) return null;
  const forPid = env.get(WATCHDOG_PID_ENV);
  if (forPid && Number(forPid) !== pid) return null;
  const n = Number(usec);
  if (!Number.isSafeInteger(n) || n <= 0) return null;
  return Math.max(1, Math.floor(n / USEC_PER_MS / 2));
}

/** Builds one notification datagram; values may not contain newlines. */
export function formatNotify(fields: Record<string, string | number>): string {
  let out = "";
  for (const [k, v] of Object.entries(fields)) {
    const s = String(v).replace(/[\r\n]+/g, " ");
    out += `${k}=${s}\n`;
  }
  return out;
}

export class SdNotifier {
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private failures = 0;
  /** Every message sent (for the log and tests). */
  sent = 0;

  constructor(
    private readonly transport: NotifyTransport | null,
    readonly watchdogMs: number | null,
    private readonly onError: (e: Error, count: number) => void = () => {},
  ) {}

  /**
   * From the environment systemd sets. Removes NOTIFY_SOCKET and the watchdog
   * variables so child processes do not inherit them (as sd_notify's
   * unset_environment does).
   */
  static fromEnv(onError?: (e: Error, count: number) => void): SdNotifier {
    const socket = Deno.env.get(NOTIFY_SOCKET_ENV);
    const wd = watchdogIntervalMs(Deno.env, Deno.pid);
    for (const k of [NOTIFY_SOCKET_ENV, WATCHDOG_USEC_ENV, WATCHDOG_PID_ENV]) Deno.env.delete(k);
    if (!socket) return new SdNotifier(null, null, onError);
    const sender = new UnixDatagramSender(socket);
    const enc = new TextEncoder();
    return new SdNotifier(
      {
        send: (m) => sender.send(enc.encode(m)),
        close: () => sender.close(),
      },
      wd,
      onError,
    );
  }

  /** Whether a service manager is listening. */
  get enabled(): boolean {
    return this.transport !== null;
  }

  notify(fields: Record<string, string | number>): void {
    if (!this.transport) return;
    try {
      this.transport.send(formatNotify(fields));
      this.sent++;
    } catch (e) {
      this.onError(e as Error, ++this.failures);
    }
  }

  ready(status?: string): void {
    this.notify(status ? { READY: 1, STATUS: status, MAINPID: Deno.pid } : { READY: 1 });
  }

  status(text: string): void {
    this.notify({ STATUS: text });
  }

  stopping(status = "shutting down"): void {
    this.notify({ STOPPING: 1, STATUS: status });
  }

  /** Pings WATCHDOG=1 at half of WATCHDOG_USEC until stopped; no-op without a watchdog. */
  startWatchdog(): void {
    if (!this.transport || this.watchdogMs === null || this.watchdog) return;
    this.notify({ WATCHDOG: 1 });
    this.watchdog = setInterval(() => this.notify({ WATCHDOG: 1 }), this.watchdogMs);
  }

  stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  close(): void {
    this.stopWatchdog();
    this.transport?.close();
  }
}
