/**
 * UDP impairment relays driven by one synchronous poll loop (libc over FFI),
 * for a thread of their own: the Wi-Fi bench's relays stand for the network,
 * so their timing must be the model's, not the host's.
 *
 * The event-loop relay (./impairment_relay.ts) sends a held datagram when the
 * runtime's timer fires: whole milliseconds, rounded up, and only when the
 * event loop gets to it. In the bench's process (a browser driver, the
 * reference client decoding Opus, the figures) those timers fired 25–35 ms
 * late with one listener and up to 178 ms under load (docs/loadtest/wifi/).
 * Here one thread does nothing else:
 *
 *   loop: wait = earliest due − now − SPIN_MS (at most MAX_WAIT_MS)
 *         ppoll(every relay's socket, wait)      ns timeout; timer slack 1 ns
 *         recvfrom each socket until EAGAIN      → model → delay queue (impaired)
 *                                                → sendto at once (the other way)
 *         spin the last < SPIN_MS to the due time
 *         ImpairedLink.flush: sendto every due datagram, in due order
 *
 * Same model, queue and counters as the event-loop relay (./impaired_link.ts):
 * a datagram is never sent early, and its lateness is measured per datagram
 * (`link.lateness`: p50/p99/max). The thread can ask for a higher priority
 * (`raiseThreadPriority`: a nice value for this thread only, root needed to go
 * below 0) — the relays then stand for the network even when the host is busy.
 *
 * The socket is libc's own (non-blocking, bound to `hostname`, any free port);
 * `target` must be an IPv4 literal. One peer per relay, as in
 * ./impairment_relay.ts (whoever sends that is not the target).
 */

import { type Clock, systemClock, type Timers } from "../util/clock.ts";
import { ImpairedLink, type LinkStats } from "./impaired_link.ts";
import type { ImpairmentModel } from "./impairment.ts";
import type { ImpairedDirection } from "./impairment_relay.ts";

/** How long before a due time the loop stops sleeping and spins (ms). */
export const SPIN_MS = 0.1;
/** Longest single wait, so `stop()` and new relays are seen soon (ms). */
export const MAX_WAIT_MS = 5;

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const POLLIN = 1;
const POLLFD_BYTES = 8;
const SOCKADDR_BYTES = 16;
const EINTR = 4;
const PR_SET_TIMERSLACK = 29;
const SYS_GETTID = 186; // x86_64
const PRIO_PROCESS = 0;
const SCHED_FIFO = 1;
const RECEIVE_BYTES = 65536;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
  },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  ppoll: { parameters: ["buffer", "usize", "buffer", "pointer"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  syscall: { parameters: ["i64"], result: "i64" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
  sched_setscheduler: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}
function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** A size_t argument: Deno's FFI takes a number for it (typed bigint), no BigInt per call. */
const sz = (n: number) => n as unknown as bigint;

function ipv4(host: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (!m) throw new Error(`poll relay: ${host} is not an IPv4 literal`);
  return m.slice(1).reduce((a, b) => (a * 256 + Number(b)) >>> 0, 0);
}

function sockaddr(buf: Uint8Array, host: string, port: number): void {
  const v = new DataView(buf.buffer, buf.byteOffset, SOCKADDR_BYTES);
  buf.fill(0, 0, SOCKADDR_BYTES);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  v.setUint32(4, ipv4(host), false);
}

export interface ThreadPriority {
  slack: boolean;
  nice: boolean;
  /** SCHED_FIFO at the asked priority. */
  rt: boolean;
}

/**
 * This thread's timer slack to 1 ns, its nice value to `nice` (a negative
 * value needs root) and, with `rtPriority` > 0, the real-time SCHED_FIFO
 * class at that priority (root): a thread that sleeps in ppoll and wakes for
 * each due datagram then runs as soon as it is due, whatever else the host
 * runs (the kernel keeps 5 % of each second for the others in any case).
 * Returns what it got, not throwing: without the rights the loop still runs,
 * at the host's mercy, and the bench says so.
 */
export function raiseThreadPriority(nice: number, rtPriority = 0): ThreadPriority {
  const c = libc();
  const slack = c.prctl(PR_SET_TIMERSLACK, 1n, 0n, 0n, 0n) === 0;
  const tid = Number(c.syscall(BigInt(SYS_GETTID)));
  const niced = c.setpriority(PRIO_PROCESS, tid, nice) === 0;
  const rt = rtPriority > 0 &&
    c.sched_setscheduler(tid, SCHED_FIFO, new Uint8Array(new Int32Array([rtPriority]).buffer)) ===
      0;
  return { slack, nice: niced, rt };
}

export interface PollRelayOptions {
  target: { hostname: string; port: number };
  model: ImpairmentModel;
  impaired: ImpairedDirection;
  /** Where the relay listens (default 127.0.0.1, any free port). */
  hostname?: string;
  port?: number;
  clock?: Clock;
  capacity?: number;
  slotBytes?: number;
  /** Called for every datagram of the impaired direction with its arrival time and the model's answer. */
  observe?: (data: Uint8Array, atMs: number, delayMs: number) => void;
}

export interface PollRelayStats extends LinkStats {
  passed: number;
  noPeer: number;
}

/** The loop calls flush itself when `nextDueMs` comes: the link's own timer is never armed. */
const noTimers: Timers = {
  setTimeout: () => 0,
  clearTimeout: () => {},
  setInterval: () => 0,
  clearInterval: () => {},
};

export class PolledRelay {
  readonly fd: number;
  readonly port: number;
  readonly link: ImpairedLink;
  passed = 0;
  noPeer = 0;
  private readonly targetAddr = new Uint8Array(SOCKADDR_BYTES);
  private readonly peerAddr = new Uint8Array(SOCKADDR_BYTES);
  private hasPeer = false;
  private readonly targetIp: number;
  private readonly targetPort: number;
  private readonly impairedTo: boolean;

  constructor(readonly opts: PollRelayOptions) {
    const c = libc();
    this.targetIp = ipv4(opts.target.hostname);
    this.targetPort = opts.target.port;
    sockaddr(this.targetAddr, opts.target.hostname, opts.target.port);
    this.impairedTo = opts.impaired === "to-target";
    const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`poll relay: socket() failed, errno ${errno()}`);
    const local = new Uint8Array(SOCKADDR_BYTES);
    sockaddr(local, opts.hostname ?? "127.0.0.1", opts.port ?? 0);
    if (c.bind(fd, local, SOCKADDR_BYTES) !== 0) {
      const e = errno();
      c.close(fd);
      throw new Error(`poll relay: bind() failed, errno ${e}`);
    }
    const len = new Uint32Array([SOCKADDR_BYTES]);
    c.getsockname(fd, local, new Uint8Array(len.buffer));
    this.fd = fd;
    this.port = new DataView(local.buffer).getUint16(2, false);
    const to = this.impairedTo ? this.targetAddr : this.peerAddr;
    this.link = new ImpairedLink(opts.model, (d) => {
      if (!this.impairedTo && !this.hasPeer) throw new Error("no peer");
      if (Number(c.sendto(this.fd, d, sz(d.length), MSG_DONTWAIT, to, SOCKADDR_BYTES)) < 0) {
        throw new Error("sendto");
      }
    }, {
      clock: opts.clock ?? systemClock,
      timers: noTimers,
      capacity: opts.capacity,
      slotBytes: opts.slotBytes,
      observe: opts.observe,
    });
  }

  get stats(): PollRelayStats {
    return { ...this.link.stats, passed: this.passed, noPeer: this.noPeer };
  }

  /** Reads every datagram waiting on the socket (non-blocking). */
  receiveAll(buf: Uint8Array, from: Uint8Array, fromLen: Uint8Array, fromLen32: Uint32Array) {
    const c = libc();
    for (;;) {
      fromLen32[0] = SOCKADDR_BYTES;
      const n = Number(c.recvfrom(this.fd, buf, sz(buf.length), MSG_DONTWAIT, from, fromLen));
      if (n < 0) {
        if (errno() === EINTR) continue;
        return; // EAGAIN: drained (anything else: the socket is going away)
      }
      const fromPort = (from[2] << 8) | from[3];
      const fromIp = ((from[4] << 24) | (from[5] << 16) | (from[6] << 8) | from[7]) >>> 0;
      const fromTarget = fromPort === this.targetPort && fromIp === this.targetIp;
      if (!fromTarget) {
        this.peerAddr.set(from.subarray(0, SOCKADDR_BYTES));
        this.hasPeer = true;
      }
      const data = buf.subarray(0, n);
      if (fromTarget !== this.impairedTo) {
        this.link.offer(data); // copied into the link's slot
        continue;
      }
      if (fromTarget && !this.hasPeer) {
        this.noPeer++;
        continue;
      }
      const to = fromTarget ? this.peerAddr : this.targetAddr;
      if (Number(c.sendto(this.fd, data, sz(n), MSG_DONTWAIT, to, SOCKADDR_BYTES)) >= 0) {
        this.passed++;
      }
    }
  }

  close(): void {
    this.link.close();
    libc().close(this.fd);
  }
}

export class PollRelayLoop {
  private relays: PolledRelay[] = [];
  private fds = new Uint8Array(0);
  private readonly timespec = new BigInt64Array(2);
  private readonly timespecBytes = new Uint8Array(this.timespec.buffer);
  private readonly buf = new Uint8Array(RECEIVE_BYTES);
  private readonly from = new Uint8Array(SOCKADDR_BYTES);
  private readonly fromLen32 = new Uint32Array(1);
  private readonly fromLen = new Uint8Array(this.fromLen32.buffer);
  /** Loop iterations and how many spun to a due time (for the report). */
  iterations = 0;
  spins = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  add(opts: PollRelayOptions): PolledRelay {
    const r = new PolledRelay({ clock: this.clock, ...opts });
    this.relays.push(r);
    this.rebuild();
    return r;
  }

  remove(r: PolledRelay): void {
    this.relays = this.relays.filter((x) => x !== r);
    r.close();
    this.rebuild();
  }

  get size(): number {
    return this.relays.length;
  }

  /**
   * Runs the loop until `untilMs` on the clock, or until `interrupt()` says so (asked once per
   * iteration: at least every MAX_WAIT_MS), or at once with no relay.
   */
  runUntil(untilMs: number, interrupt?: () => boolean): void {
    const c = libc();
    for (;;) {
      const view = new DataView(this.fds.buffer);
      this.iterations++;
      let now = this.clock.now();
      if (now >= untilMs || this.relays.length === 0 || interrupt?.()) return;
      let next = Infinity;
      for (const r of this.relays) next = Math.min(next, r.link.nextDueMs);
      const waitMs = Math.max(0, Math.min(MAX_WAIT_MS, untilMs - now, next - now - SPIN_MS));
      const ns = BigInt(Math.floor(waitMs * 1e6));
      this.timespec[0] = ns / 1_000_000_000n;
      this.timespec[1] = ns % 1_000_000_000n;
      const ready = c.ppoll(this.fds, sz(this.relays.length), this.timespecBytes, null);
      if (ready > 0) {
        for (let i = 0; i < this.relays.length; i++) {
          if (view.getInt16(i * POLLFD_BYTES + 6, true) & POLLIN) {
            this.relays[i].receiveAll(this.buf, this.from, this.fromLen, this.fromLen32);
          }
        }
      }
      now = this.clock.now();
      if (next > now && next - now <= SPIN_MS) {
        this.spins++;
        while (this.clock.now() < next) { /* the last fraction of a ms, spinning */ }
      }
      for (const r of this.relays) if (r.link.nextDueMs <= this.clock.now()) r.link.flush();
    }
  }

  close(): void {
    for (const r of this.relays) r.close();
    this.relays = [];
    this.rebuild();
  }

  private rebuild(): void {
    this.fds = new Uint8Array(this.relays.length * POLLFD_BYTES);
    const v = new DataView(this.fds.buffer);
    this.relays.forEach((r, i) => {
      v.setInt32(i * POLLFD_BYTES, r.fd, true);
      v.setInt16(i * POLLFD_BYTES + 4, POLLIN, true);
    });
  }
}
