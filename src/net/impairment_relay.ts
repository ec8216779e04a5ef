/**
 * A bidirectional UDP impairment relay (Deno adapter over ./impaired_link.ts)
 * for the QoS bench and the transport tests: this kernel has no netem, so the
 * project brings its own. One socket; the peer is whoever sends to it that is
 * not the target, and the relay answers the peer from the same socket:
 *
 *   peer ──▶ relay ──▶ target        ("to-target")
 *   peer ◀── relay ◀── target        ("from-target")
 *
 * One direction goes through the impairment model, the other passes as it
 * comes. Which one depends on who starts:
 *
 *   RTP         the server sends to the relay's port (the client asked for it
 *               in /request-audio), target = the client: impair "to-target"
 *   QUIC, DTLS  the client sends to the relay, target = the server's port
 *               (WebTransport, DataChannel): impair "from-target"
 *
 * One peer at a time (the last one seen): one relay per client, as the bench
 * runs them. `target` must be an IP literal (replies are matched by address).
 */

import type { Clock, Timers } from "../util/clock.ts";
import { ImpairedLink, type LinkStats } from "./impaired_link.ts";
import type { ImpairmentModel } from "./impairment.ts";

export type ImpairedDirection = "to-target" | "from-target";

export interface UdpRelayOptions {
  target: Deno.NetAddr;
  model: ImpairmentModel;
  impaired: ImpairedDirection;
  /** Where the relay listens (default 127.0.0.1, any free port). */
  hostname?: string;
  port?: number;
  clock?: Clock;
  timers?: Timers;
  capacity?: number;
  slotBytes?: number;
  observe?: (data: Uint8Array, atMs: number, delayMs: number) => void;
}

export interface UdpRelayStats extends LinkStats {
  /** Datagrams of the unimpaired direction, passed on as they came. */
  passed: number;
  /** Datagrams from the target before any peer had sent (nowhere to go). */
  noPeer: number;
  /** Datagrams that came while a draining close let the held ones out (neither direction). */
  ignored: number;
}

/** Room for any UDP payload. */
const RECEIVE_BYTES = 65536;

export class UdpImpairmentRelay {
  readonly port: number;
  readonly addr: Deno.NetAddr;
  readonly link: ImpairedLink;
  private readonly conn: Deno.DatagramConn;
  private peer: Deno.NetAddr | null = null;
  private passed = 0;
  private noPeer = 0;
  private ignored = 0;
  private taking = true;
  private closed = false;
  private readonly done: Promise<void>;

  constructor(readonly opts: UdpRelayOptions) {
    this.conn = Deno.listenDatagram({
      transport: "udp",
      hostname: opts.hostname ?? "127.0.0.1",
      port: opts.port ?? 0,
    });
    this.addr = this.conn.addr as Deno.NetAddr;
    this.port = this.addr.port;
    const impairedTo = opts.impaired === "to-target";
    this.link = new ImpairedLink(
      opts.model,
      impairedTo
        ? (d) => this.conn.send(d, opts.target)
        : (d) => (this.peer ? this.conn.send(d, this.peer) : Promise.reject(new Error("no peer"))),
      opts,
    );
    this.done = this.loop();
  }

  get stats(): UdpRelayStats {
    return { ...this.link.stats, passed: this.passed, noPeer: this.noPeer, ignored: this.ignored };
  }

  /** Datagrams held by the impaired direction. */
  get pending(): number {
    return this.link.pending;
  }

  /**
   * Closes the socket. With `drain`, first stops taking datagrams (both directions; they are
   * counted as `ignored`) and lets every held one out at its due time.
   */
  async close(drain = false): Promise<void> {
    if (this.closed) return;
    if (drain) {
      this.taking = false;
      await this.link.idle();
    }
    this.closed = true;
    this.link.close();
    this.conn.close();
    await this.done;
  }

  private async loop(): Promise<void> {
    const buf = new Uint8Array(RECEIVE_BYTES);
    const t = this.opts.target;
    const impairedTo = this.opts.impaired === "to-target";
    while (!this.closed) {
      let data: Uint8Array, from: Deno.NetAddr;
      try {
        const [d, a] = await this.conn.receive(buf);
        data = d;
        from = a as Deno.NetAddr;
      } catch {
        break;
      }
      if (!this.taking) {
        this.ignored++;
        continue;
      }
      const fromTarget = from.port === t.port && from.hostname === t.hostname;
      if (!fromTarget) this.peer = from;
      if (fromTarget !== impairedTo) {
        this.link.offer(data); // copied into the link's own slot
        continue;
      }
      const to = fromTarget ? this.peer : t;
      if (to === null) {
        this.noPeer++;
        continue;
      }
      try {
        await this.conn.send(data, to); // before `buf` is reused
        this.passed++;
      } catch {
        if (this.closed) break;
      }
    }
  }
}
