/**
 * A UDP impairment relay for the QoS test bench (requirements, 시나리오 3:
 * 네트워크 지연/손실 시뮬레이션) — this kernel has no netem, so the project
 * brings its own. It listens on a port and forwards every datagram to one
 * target with, per datagram and independently:
 *
 *   loss     drop with probability lossPct / 100
 *   delay    hold delayMs + U(0, jitterMs) ms   (jitter alone already reorders
 *            packets spaced closer than jitterMs)
 *   reorder  with probability reorderPct / 100, hold reorderDelayMs longer, so
 *            the packet lands behind the ones after it
 *
 * The decisions (`ImpairmentModel`, pure) come from a seeded PRNG, so a run is
 * reproducible. The socket part is a thin Deno adapter.
 */

export interface Impairment {
  lossPct?: number;
  delayMs?: number;
  jitterMs?: number;
  reorderPct?: number;
  reorderDelayMs?: number;
  seed?: number;
}

export const DEFAULT_REORDER_DELAY_MS = 10;
export const DEFAULT_SEED = 0x5eed;

/** mulberry32: a small seeded PRNG, uniform [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ImpairmentModel {
  private readonly rnd: () => number;
  constructor(readonly cfg: Impairment) {
    for (const k of ["lossPct", "reorderPct"] as const) {
      const v = cfg[k] ?? 0;
      if (!(v >= 0 && v <= 100)) throw new RangeError(`${k} must be 0–100 %, got ${v}`);
    }
    for (const k of ["delayMs", "jitterMs", "reorderDelayMs"] as const) {
      const v = cfg[k] ?? 0;
      if (!(v >= 0)) throw new RangeError(`${k} must be >= 0 ms, got ${v}`);
    }
    this.rnd = seededUniform(cfg.seed ?? DEFAULT_SEED);
  }

  /** When to send a datagram received at `nowMs`, or −1 to drop it. */
  decide(nowMs: number): number {
    const c = this.cfg;
    // Always draw the same number of values, so one setting does not shift another's sequence.
    const rLoss = this.rnd(), rJit = this.rnd(), rReo = this.rnd();
    if (rLoss * 100 < (c.lossPct ?? 0)) return -1;
    let t = nowMs + (c.delayMs ?? 0) + rJit * (c.jitterMs ?? 0);
    if (rReo * 100 < (c.reorderPct ?? 0)) t += c.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS;
    return t;
  }
}

export interface RelayStats {
  received: number;
  forwarded: number;
  dropped: number;
  sendErrors: number;
}

/** Deno adapter: the relay's socket and its send queue (one timer for the earliest datagram). */
export class ImpairRelay {
  readonly stats: RelayStats = { received: 0, forwarded: 0, dropped: 0, sendErrors: 0 };
  readonly port: number;
  private readonly conn: Deno.DatagramConn;
  private readonly model: ImpairmentModel;
  private queue: { at: number; data: Uint8Array }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly done: Promise<void>;

  constructor(
    readonly target: Deno.NetAddr,
    impairment: Impairment,
    hostname = "127.0.0.1",
    private readonly now: () => number = () => performance.now(),
  ) {
    this.model = new ImpairmentModel(impairment);
    this.conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    this.port = (this.conn.addr as Deno.NetAddr).port;
    this.done = this.loop();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.conn.close();
    await this.done;
  }

  private async loop(): Promise<void> {
    const buf = new Uint8Array(65536);
    while (!this.closed) {
      let n: number;
      try {
        const [data] = await this.conn.receive(buf);
        n = data.length;
      } catch {
        break;
      }
      this.stats.received++;
      const at = this.model.decide(this.now());
      if (at < 0) {
        this.stats.dropped++;
        continue;
      }
      const item = { at, data: buf.slice(0, n) };
      let i = this.queue.length;
      while (i > 0 && this.queue[i - 1].at > at) i--;
      this.queue.splice(i, 0, item);
      this.flush();
    }
  }

  private flush(): void {
    const now = this.now();
    let k = 0;
    while (k < this.queue.length && this.queue[k].at <= now) {
      this.send(this.queue[k].data);
      k++;
    }
    if (k > 0) this.queue.splice(0, k);
    const next = this.queue.length > 0 ? this.queue[0].at : Infinity;
    if (next < this.timerAt && !this.closed) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timerAt = next;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.flush();
      }, Math.max(0, next - now));
    }
  }

  private send(data: Uint8Array): void {
    this.conn.send(data, this.target).then(
      () => this.stats.forwarded++,
      () => this.stats.sendErrors++,
    );
  }
}
