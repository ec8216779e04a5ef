/**
 * The baseline PacketSender: Deno's own UDP socket and `conn.send`, one
 * promise per datagram. `conn.send` is asynchronous and holds the buffer it
 * is given, so each commit copies the slot (the one allocation per packet
 * this path cannot avoid). Every promise is caught; failures are counted in
 * `stats`, never thrown.
 *
 * DSCP needs the socket's fd and libc (../../ffi/libc.ts); without FFI,
 * `setDscp` throws and datagrams go out unmarked.
 */

import type { PacketSender, SenderOptions, SenderStats, UdpDestination } from "./sender.ts";
import { parseIpv4 } from "./local_address.ts";
import { dscpToTos, setDscp } from "./dscp.ts";
import { libc } from "../../ffi/libc.ts";
import { findUdpSocketFd } from "./socket_fd.ts";

export const DEFAULT_BIND_HOSTNAME = "0.0.0.0";
const PORT_MAX = 65535;

/** Throws RangeError unless `hostname` is a dotted-quad IPv4 and `port` is 1..65535. */
export function checkDestination(hostname: string, port: number): number {
  const ip = parseIpv4(hostname);
  if (!Number.isInteger(port) || port < 1 || port > PORT_MAX) {
    throw new RangeError(`UDP destination port must be an integer 1..${PORT_MAX}, got ${port}`);
  }
  return ip;
}

/** Throws RangeError unless 0 < length <= max (an integer). */
export function checkCommitLength(length: number, max: number): void {
  if (!Number.isInteger(length) || length < 1 || length > max) {
    throw new RangeError(`datagram length must be an integer 1..${max} bytes, got ${length}`);
  }
}

/** Throws RangeError for a maxDatagramBytes outside 1..65507 (the IPv4 UDP payload limit). */
export function checkMaxDatagramBytes(max: number): void {
  const UDP_IPV4_PAYLOAD_MAX = 65507;
  if (!Number.isInteger(max) || max < 1 || max > UDP_IPV4_PAYLOAD_MAX) {
    throw new RangeError(
      `maxDatagramBytes must be an integer 1..${UDP_IPV4_PAYLOAD_MAX}, got ${max}`,
    );
  }
}

class DenoDestination implements UdpDestination {
  readonly addr: Deno.NetAddr;
  constructor(readonly hostname: string, readonly port: number) {
    this.addr = { transport: "udp", hostname, port };
  }
}

/**
 * Sends still in flight before new datagrams are dropped: about 100 ms of
 * 20 clients' traffic. Without a bound a saturated runtime queues sends (and
 * their copies) until memory runs out (seen in bench/ at 50 clients).
 */
export const MAX_IN_FLIGHT = 4096;

export class DenoSender implements PacketSender {
  readonly kind = "deno";
  readonly localPort: number;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  readonly #conn: Deno.DatagramConn;
  readonly #hostname: string;
  readonly #slot: Uint8Array;
  #fd = -1;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #closed = false;

  /** Binds the UDP socket (throws if the port is taken) and applies `opts.dscp`. */
  static open(opts: SenderOptions): DenoSender {
    checkMaxDatagramBytes(opts.maxDatagramBytes);
    const hostname = opts.hostname ?? DEFAULT_BIND_HOSTNAME;
    const conn = Deno.listenDatagram({ transport: "udp", hostname, port: opts.port });
    const sender = new DenoSender(conn, hostname, opts.maxDatagramBytes);
    try {
      if (opts.dscp !== 0) sender.setDscp(opts.dscp);
    } catch (err) {
      sender.close();
      throw err;
    }
    return sender;
  }

  private constructor(
    conn: Deno.DatagramConn,
    hostname: string,
    readonly maxDatagramBytes: number,
  ) {
    this.#conn = conn;
    this.#hostname = hostname;
    this.localPort = (conn.addr as Deno.NetAddr).port;
    this.#slot = new Uint8Array(maxDatagramBytes);
  }

  destination(hostname: string, port: number): UdpDestination {
    checkDestination(hostname, port);
    return new DenoDestination(hostname, port);
  }

  slot(): Uint8Array {
    return this.#slot;
  }

  commit(length: number, dest: UdpDestination): void {
    if (this.#closed) throw new Error("sender is closed");
    checkCommitLength(length, this.maxDatagramBytes);
    const addr: Deno.NetAddr = dest instanceof DenoDestination
      ? dest.addr
      : { transport: "udp", hostname: dest.hostname, port: dest.port };
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      // The runtime is not keeping up: drop (counted) rather than queue without bound.
      this.stats.errors++;
      this.stats.lastError = `more than ${MAX_IN_FLIGHT} sends in flight; datagram dropped`;
      return;
    }
    this.#inFlight++;
    this.#conn.send(this.#slot.slice(0, length), addr).then(this.#onSent, this.#onError);
  }

  /** Datagrams go out on commit; nothing is queued here. */
  flush(): void {}

  /** Resolves once every datagram committed so far has been sent or has failed. */
  settled(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  setDscp(dscp: number): void {
    if (this.#closed) throw new Error("sender is closed");
    dscpToTos(dscp); // validate first
    libc(); // fail with the FFI reason before /proc is read
    if (this.#fd < 0) this.#fd = findUdpSocketFd(this.localPort, this.#hostname);
    setDscp(this.#fd, dscp);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  #onSent = (bytes: number): void => {
    this.stats.packets++;
    this.stats.bytes += bytes;
    this.#done();
  };

  #onError = (err: unknown): void => {
    this.stats.errors++;
    this.stats.lastError = err instanceof Error ? err.message : String(err);
    this.#done();
  };

  #done(): void {
    if (--this.#inFlight === 0 && this.#idle.length > 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const w of waiters) w();
    }
  }
}
