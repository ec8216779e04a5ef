/**
 * PacketSender over libc sendmmsg(2): many datagrams per system call, from
 * the same Deno-bound UDP socket (its fd found via ./socket_fd.ts), with no
 * allocation per packet.
 *
 * Everything the kernel reads is preallocated once, in ArrayBuffers whose
 * backing stores never move, and their addresses are computed at construction:
 *
 *   arena    batchSize × maxDatagramBytes   slot i = datagram i's bytes
 *   iovecs   batchSize × 16                 iov[i] = { arena + i·max, len_i }
 *   mmsghdrs batchSize × 64                 hdr[i] = { msg_name → dest's sockaddr_in,
 *                                                      msg_namelen 16, msg_iov → iov[i],
 *                                                      msg_iovlen 1, no control }
 *
 * `commit` writes only iov_len (a u32 store, the high word stays 0) and
 * msg_name (a BigInt precomputed per destination) into those structs.
 * Layouts: ../../ffi/libc.ts.
 */

import {
  AF_INET,
  EAGAIN,
  EINTR,
  ENOBUFS,
  errno,
  IOV_BASE_OFFSET,
  IOV_LEN_OFFSET,
  IOVEC_BYTES,
  libc,
  MMSGHDR_BYTES,
  MSG_DONTWAIT,
  MSG_IOV_OFFSET,
  MSG_IOVLEN_OFFSET,
  MSG_NAME_OFFSET,
  MSG_NAMELEN_OFFSET,
  SOCKADDR_IN_BYTES,
  strerror,
} from "../../ffi/libc.ts";
import type { PacketSender, SenderOptions, SenderStats, UdpDestination } from "./sender.ts";
import {
  checkCommitLength,
  checkDestination,
  checkMaxDatagramBytes,
  DEFAULT_BIND_HOSTNAME,
} from "./deno_sender.ts";
import { setDscp } from "./dscp.ts";
import { findUdpSocketFd } from "./socket_fd.ts";

export const DEFAULT_BATCH_SIZE = 32;
/** Linux UIO_MAXIOV: the most messages one sendmmsg call takes. */
export const BATCH_SIZE_MAX = 1024;

const U64_BYTES = 8;
const U32_BYTES = 4;

/**
 * struct sockaddr_in (16 bytes, <netinet/in.h>):
 *
 *  0       2       4               8                              16
 * +-------+-------+---------------+-------------------------------+
 * |family | port  |  IPv4 address |          zero (sin_zero)      |
 * | host  |  BE   |      BE       |                               |
 * +-------+-------+---------------+-------------------------------+
 */
export function writeSockaddrIn(buf: Uint8Array, ip: number, port: number): void {
  if (buf.length < SOCKADDR_IN_BYTES) {
    throw new RangeError(`sockaddr_in needs ${SOCKADDR_IN_BYTES} bytes, got ${buf.length}`);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, SOCKADDR_IN_BYTES);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  v.setUint32(4, ip, false);
  v.setUint32(8, 0);
  v.setUint32(12, 0);
}

/** A destination carrying its own sockaddr_in and that struct's address. */
class SockaddrDestination implements UdpDestination {
  readonly sockaddr: Uint8Array;
  readonly sockaddrPtr: bigint;
  constructor(readonly hostname: string, readonly port: number, ip: number) {
    // A fresh ArrayBuffer's backing store lives off the V8 heap and never moves.
    this.sockaddr = new Uint8Array(new ArrayBuffer(SOCKADDR_IN_BYTES));
    writeSockaddrIn(this.sockaddr, ip, port);
    this.sockaddrPtr = addressOf(this.sockaddr);
  }
}

function addressOf(buf: Uint8Array): bigint {
  return Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf));
}

/** The two libc calls `flush` makes; tests wrap them to inject short counts and errnos. */
export interface SendmmsgCalls {
  sendmmsg(fd: number, msgvec: Deno.PointerValue, vlen: number, flags: number): number;
  errno(): number;
}

function libcCalls(): SendmmsgCalls {
  const symbols = libc();
  return { sendmmsg: symbols.sendmmsg, errno };
}

function isTransient(code: number): boolean {
  return code === EAGAIN || code === ENOBUFS || code === EINTR;
}

export class SendmmsgSender implements PacketSender {
  readonly kind = "sendmmsg";
  readonly localPort: number;
  readonly batchSize: number;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  /** sendmmsg calls made (for benchmarks and tests). */
  syscalls = 0;
  readonly #calls: SendmmsgCalls;
  readonly #conn: Deno.DatagramConn;
  readonly #slots: Uint8Array[];
  readonly #hdr64: BigUint64Array;
  readonly #iov32: Uint32Array;
  readonly #hdrPtrs: Deno.PointerValue[];
  readonly #lens: Int32Array;
  readonly #dests: (SockaddrDestination | null)[];
  readonly #foreign = new WeakMap<UdpDestination, SockaddrDestination>();
  #count = 0;
  #closed = false;

  /**
   * Binds the UDP socket, finds its fd and applies `opts.dscp`. Throws when
   * FFI/libc is unavailable (the caller may fall back to DenoSender).
   */
  static open(opts: SenderOptions, calls?: SendmmsgCalls): SendmmsgSender {
    checkMaxDatagramBytes(opts.maxDatagramBytes);
    const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > BATCH_SIZE_MAX) {
      throw new RangeError(`batchSize must be an integer 1..${BATCH_SIZE_MAX}, got ${batchSize}`);
    }
    const sys = calls ?? libcCalls();
    const hostname = opts.hostname ?? DEFAULT_BIND_HOSTNAME;
    const conn = Deno.listenDatagram({ transport: "udp", hostname, port: opts.port });
    try {
      const port = (conn.addr as Deno.NetAddr).port;
      const fd = findUdpSocketFd(port, hostname);
      const sender = new SendmmsgSender(sys, conn, fd, opts.maxDatagramBytes, batchSize);
      if (opts.dscp !== 0) sender.setDscp(opts.dscp);
      return sender;
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  private constructor(
    calls: SendmmsgCalls,
    conn: Deno.DatagramConn,
    /** The socket's file descriptor (owned by the Deno socket). */
    readonly fd: number,
    readonly maxDatagramBytes: number,
    batchSize: number,
  ) {
    this.#calls = calls;
    this.#conn = conn;
    this.localPort = (conn.addr as Deno.NetAddr).port;
    this.batchSize = batchSize;

    const arena = new Uint8Array(new ArrayBuffer(batchSize * maxDatagramBytes));
    const iovecs = new ArrayBuffer(batchSize * IOVEC_BYTES);
    const hdrs = new ArrayBuffer(batchSize * MMSGHDR_BYTES);
    const iov64 = new BigUint64Array(iovecs);
    this.#iov32 = new Uint32Array(iovecs);
    this.#hdr64 = new BigUint64Array(hdrs);
    const hdr32 = new Uint32Array(hdrs);
    const arenaBase = addressOf(arena);
    const iovBase = addressOf(new Uint8Array(iovecs));
    const hdrBase = addressOf(new Uint8Array(hdrs));

    this.#slots = [];
    this.#hdrPtrs = [];
    for (let i = 0; i < batchSize; i++) {
      this.#slots.push(arena.subarray(i * maxDatagramBytes, (i + 1) * maxDatagramBytes));
      const iov = (i * IOVEC_BYTES) / U64_BYTES;
      iov64[iov + IOV_BASE_OFFSET / U64_BYTES] = arenaBase + BigInt(i * maxDatagramBytes);
      iov64[iov + IOV_LEN_OFFSET / U64_BYTES] = 0n;
      const hdr = (i * MMSGHDR_BYTES) / U64_BYTES;
      this.#hdr64[hdr + MSG_IOV_OFFSET / U64_BYTES] = iovBase + BigInt(i * IOVEC_BYTES);
      this.#hdr64[hdr + MSG_IOVLEN_OFFSET / U64_BYTES] = 1n;
      hdr32[(i * MMSGHDR_BYTES + MSG_NAMELEN_OFFSET) / U32_BYTES] = SOCKADDR_IN_BYTES;
      this.#hdrPtrs.push(Deno.UnsafePointer.create(hdrBase + BigInt(i * MMSGHDR_BYTES)));
    }
    this.#lens = new Int32Array(batchSize);
    this.#dests = new Array(batchSize).fill(null);
  }

  destination(hostname: string, port: number): UdpDestination {
    return new SockaddrDestination(hostname, port, checkDestination(hostname, port));
  }

  slot(): Uint8Array {
    return this.#slots[this.#count];
  }

  commit(length: number, dest: UdpDestination): void {
    if (this.#closed) throw new Error("sender is closed");
    checkCommitLength(length, this.maxDatagramBytes);
    const d = dest instanceof SockaddrDestination ? dest : this.#adopt(dest);
    const i = this.#count;
    this.#hdr64[(i * MMSGHDR_BYTES + MSG_NAME_OFFSET) / U64_BYTES] = d.sockaddrPtr;
    this.#iov32[(i * IOVEC_BYTES + IOV_LEN_OFFSET) / U32_BYTES] = length;
    this.#lens[i] = length;
    this.#dests[i] = d; // keeps the sockaddr alive while the kernel may read it
    this.#count = i + 1;
    if (this.#count === this.batchSize) this.flush();
  }

  /**
   * Sends the queued datagrams. A short count is followed by a send of the
   * rest; EAGAIN/ENOBUFS/EINTR get one retry per flush, then the rest is
   * counted as errors; any other errno drops the one datagram it refers to.
   */
  flush(): void {
    const n = this.#count;
    if (n === 0) return;
    this.#count = 0;
    let start = 0;
    let retried = false;
    while (start < n) {
      this.syscalls++;
      const sent = this.#calls.sendmmsg(this.fd, this.#hdrPtrs[start], n - start, MSG_DONTWAIT);
      if (sent > 0) {
        for (let k = start; k < start + sent; k++) this.stats.bytes += this.#lens[k];
        this.stats.packets += sent;
        start += sent;
        continue;
      }
      const code = sent < 0 ? this.#calls.errno() : EAGAIN;
      if (isTransient(code)) {
        if (!retried) {
          retried = true;
          continue;
        }
        this.#fail(n - start, code);
        break;
      }
      this.#fail(1, code);
      start++;
    }
    for (let k = 0; k < n; k++) this.#dests[k] = null;
  }

  setDscp(dscp: number): void {
    if (this.#closed) throw new Error("sender is closed");
    setDscp(this.fd, dscp);
  }

  /** Sends what is queued, then closes the Deno socket (and with it the fd). */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#conn.close();
  }

  #fail(count: number, code: number): void {
    this.stats.errors += count;
    this.stats.lastError = strerror(code);
  }

  /** A destination made elsewhere (same fields, no sockaddr): build ours once and remember it. */
  #adopt(dest: UdpDestination): SockaddrDestination {
    let d = this.#foreign.get(dest);
    if (!d) {
      d = this.destination(dest.hostname, dest.port) as SockaddrDestination;
      this.#foreign.set(dest, d);
    }
    return d;
  }
}
