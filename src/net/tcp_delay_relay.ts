/**
 * A TCP relay that delays one direction per an impairment model (Deno
 * adapter over ./in_order_delay.ts): for the WebSocket transports, whose TCP
 * stream can only be delayed (no loss, no reordering; a loss costs a
 * retransmission delay and blocks what follows).
 *
 *   client ──connect──▶ relay ──connect──▶ target (the server)
 *   client ────────────────────────────▶   as it comes
 *   client ◀──── held per chunk ◀───────   delayed, in order
 *
 * Each accepted connection gets its own connection to the target; all share
 * the one model (one phone's Wi-Fi). A held chunk is a copy (TCP chunks are
 * few and large beside RTP datagrams; this path is not allocation-free).
 */

import { type Clock, systemClock, systemTimers, type Timers } from "../util/clock.ts";
import type { ImpairmentModel } from "./impairment.ts";
import { InOrderDelay, type InOrderDelayStats, TCP_RTO_MIN_MS } from "./in_order_delay.ts";
import { Lateness } from "./lateness.ts";

export interface TcpDelayRelayOptions {
  target: { hostname: string; port: number };
  model: ImpairmentModel;
  hostname?: string;
  port?: number;
  retransmitMs?: number;
  clock?: Clock;
  timers?: Timers;
}

export interface TcpDelayRelayStats extends InOrderDelayStats {
  connections: number;
  /** Bytes target → client (delayed) and client → target (as they come). */
  bytesDelayed: number;
  bytesPassed: number;
}

const READ_BYTES = 64 * 1024;

export class TcpDelayRelay {
  readonly port: number;
  readonly addr: Deno.NetAddr;
  readonly delay: InOrderDelay;
  /** Each held chunk's lateness (write start − release time, ms): the runtime's timers. */
  readonly lateness = new Lateness();
  private readonly listener: Deno.Listener;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly conns = new Set<Deno.Conn>();
  private readonly tasks = new Set<Promise<void>>();
  private connections = 0;
  private bytesDelayed = 0;
  private bytesPassed = 0;
  private closed = false;
  private readonly accepting: Promise<void>;

  constructor(readonly opts: TcpDelayRelayOptions) {
    this.delay = new InOrderDelay(opts.model, opts.retransmitMs ?? TCP_RTO_MIN_MS);
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    this.listener = Deno.listen({ hostname: opts.hostname ?? "127.0.0.1", port: opts.port ?? 0 });
    this.addr = this.listener.addr as Deno.NetAddr;
    this.port = this.addr.port;
    this.accepting = this.accept();
  }

  get stats(): TcpDelayRelayStats {
    return {
      ...this.delay.stats,
      connections: this.connections,
      bytesDelayed: this.bytesDelayed,
      bytesPassed: this.bytesPassed,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener.close();
    for (const c of this.conns) closeQuietly(c);
    await this.accepting;
    await Promise.all(this.tasks);
  }

  private async accept(): Promise<void> {
    while (!this.closed) {
      let client: Deno.Conn;
      try {
        client = await this.listener.accept();
      } catch {
        return;
      }
      const task = this.serve(client).finally(() => this.tasks.delete(task));
      this.tasks.add(task);
    }
  }

  private async serve(client: Deno.Conn): Promise<void> {
    this.conns.add(client);
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ ...this.opts.target, transport: "tcp" });
    } catch {
      this.conns.delete(client);
      closeQuietly(client);
      return;
    }
    this.connections++;
    this.conns.add(upstream);
    const end = () => {
      closeQuietly(client);
      closeQuietly(upstream);
    };
    await Promise.all([
      this.pipe(client, upstream, (n) => this.bytesPassed += n).finally(end),
      this.delayed(upstream, client).finally(end),
    ]);
    this.conns.delete(client);
    this.conns.delete(upstream);
  }

  /** Client → target, as it comes. */
  private async pipe(from: Deno.Conn, to: Deno.Conn, count: (n: number) => void): Promise<void> {
    const buf = new Uint8Array(READ_BYTES);
    try {
      for (let n = await from.read(buf); n !== null; n = await from.read(buf)) {
        await writeAll(to, buf.subarray(0, n));
        count(n);
      }
    } catch { /* either side closed */ }
  }

  /** Target → client, each chunk written at its release time, in order. */
  private async delayed(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(READ_BYTES);
    let writing: Promise<void> = Promise.resolve();
    let failed = false;
    try {
      for (let n = await from.read(buf); n !== null && !failed; n = await from.read(buf)) {
        const chunk = buf.slice(0, n);
        const at = this.delay.releaseAt(this.clock.now());
        // Chained: a chunk is written after the one before it, never before its release time.
        writing = writing.then(async () => {
          await this.sleepUntil(at);
          this.lateness.add(this.clock.now() - at);
          await writeAll(to, chunk);
          this.bytesDelayed += chunk.length;
        }).catch(() => {
          failed = true;
        });
      }
    } catch { /* closed */ }
    await writing;
  }

  private sleepUntil(at: number): Promise<void> {
    const ms = at - this.clock.now();
    if (ms <= 0) return Promise.resolve();
    return new Promise((r) => void this.timers.setTimeout(r, Math.ceil(ms)));
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch { /* already closed */ }
}
