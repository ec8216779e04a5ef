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
  CMSG_DATA_OFFSET,
  CMSG_GSO_LEN,
  CMSG_GSO_SPACE,
  CMSG_LEVEL_OFFSET,
  CMSG_TYPE_OFFSET,
  EAGAIN,
  EINTR,
  EINVAL,
  EIO,
  ENOBUFS,
  errno,
  IOV_BASE_OFFSET,
  IOV_LEN_OFFSET,
  IOVEC_BYTES,
  libc,
  MMSGHDR_BYTES,
  MSG_CONTROL_OFFSET,
  MSG_CONTROLLEN_OFFSET,
  MSG_DONTWAIT,
  MSG_IOV_OFFSET,
  MSG_IOVLEN_OFFSET,
  MSG_NAME_OFFSET,
  MSG_NAMELEN_OFFSET,
  SOCKADDR_IN_BYTES,
  SOL_UDP,
  strerror,
  UDP_GSO_MAX_BYTES,
  UDP_MAX_SEGMENTS,
  UDP_SEGMENT,
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
  /** The address as u32 halves (written into msghdr without creating BigInts). */
  readonly sockaddrLo: number;
  readonly sockaddrHi: number;
  constructor(readonly hostname: string, readonly port: number, ip: number) {
    // A fresh ArrayBuffer's backing store lives off the V8 heap and never moves.
    this.sockaddr = new Uint8Array(new ArrayBuffer(SOCKADDR_IN_BYTES));
    writeSockaddrIn(this.sockaddr, ip, port);
    this.sockaddrPtr = addressOf(this.sockaddr);
    this.sockaddrLo = Number(this.sockaddrPtr & 0xffffffffn);
    this.sockaddrHi = Number(this.sockaddrPtr >> 32n);
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
  /** Messages sent with UDP_SEGMENT (several datagrams each). */
  gsoMessages = 0;
  /** Whether consecutive datagrams to one destination are coalesced with UDP GSO. */
  gso: boolean;
  readonly #calls: SendmmsgCalls;
  readonly #conn: Deno.DatagramConn;
  readonly #slots: Uint8Array[];
  readonly #hdr32: Uint32Array;
  readonly #iov32: Uint32Array;
  readonly #cmsg: DataView;
  readonly #hdrPtrs: Deno.PointerValue[];
  /** Addresses as u32 halves, so writing them into structs allocates no BigInt. */
  readonly #iovAddrLo: Uint32Array;
  readonly #iovAddrHi: Uint32Array;
  readonly #cmsgAddrLo: Uint32Array;
  readonly #cmsgAddrHi: Uint32Array;
  /** Per slot (datagram): its length. Per message: first slot, datagram count, segment size. */
  readonly #lens: Int32Array;
  readonly #msgFirst: Int32Array;
  readonly #msgSegs: Int32Array;
  readonly #msgSegSize: Int32Array;
  readonly #msgBytes: Int32Array;
  readonly #dests: (SockaddrDestination | null)[];
  readonly #foreign = new WeakMap<UdpDestination, SockaddrDestination>();
  /** Datagrams (slots) and messages queued. */
  #count = 0;
  #messages = 0;
  /** The last message may take more segments (its last one was full-size). */
  #open = false;
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
      sender.gso = opts.gso ?? true;
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
    this.gso = true;

    const arena = new Uint8Array(new ArrayBuffer(batchSize * maxDatagramBytes));
    const iovecs = new ArrayBuffer(batchSize * IOVEC_BYTES);
    const hdrs = new ArrayBuffer(batchSize * MMSGHDR_BYTES);
    const cmsgs = new ArrayBuffer(batchSize * CMSG_GSO_SPACE);
    const iov64 = new BigUint64Array(iovecs);
    this.#iov32 = new Uint32Array(iovecs);
    this.#hdr32 = new Uint32Array(hdrs);
    this.#cmsg = new DataView(cmsgs);
    const arenaBase = addressOf(arena);
    const iovBase = addressOf(new Uint8Array(iovecs));
    const hdrBase = addressOf(new Uint8Array(hdrs));
    const cmsgBase = addressOf(new Uint8Array(cmsgs));

    this.#slots = [];
    this.#hdrPtrs = [];
    this.#iovAddrLo = new Uint32Array(batchSize);
    this.#iovAddrHi = new Uint32Array(batchSize);
    this.#cmsgAddrLo = new Uint32Array(batchSize);
    this.#cmsgAddrHi = new Uint32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      this.#slots.push(arena.subarray(i * maxDatagramBytes, (i + 1) * maxDatagramBytes));
      const iov = (i * IOVEC_BYTES) / U64_BYTES;
      iov64[iov + IOV_BASE_OFFSET / U64_BYTES] = arenaBase + BigInt(i * maxDatagramBytes);
      iov64[iov + IOV_LEN_OFFSET / U64_BYTES] = 0n;
      const iovAddr = iovBase + BigInt(i * IOVEC_BYTES);
      this.#iovAddrLo[i] = Number(iovAddr & 0xffffffffn);
      this.#iovAddrHi[i] = Number(iovAddr >> 32n);
      const cmsgAddr = cmsgBase + BigInt(i * CMSG_GSO_SPACE);
      this.#cmsgAddrLo[i] = Number(cmsgAddr & 0xffffffffn);
      this.#cmsgAddrHi[i] = Number(cmsgAddr >> 32n);
      const c = i * CMSG_GSO_SPACE;
      this.#cmsg.setBigUint64(c, BigInt(CMSG_GSO_LEN), true);
      this.#cmsg.setInt32(c + CMSG_LEVEL_OFFSET, SOL_UDP, true);
      this.#cmsg.setInt32(c + CMSG_TYPE_OFFSET, UDP_SEGMENT, true);
      this.#hdr32[(i * MMSGHDR_BYTES + MSG_NAMELEN_OFFSET) / U32_BYTES] = SOCKADDR_IN_BYTES;
      this.#hdrPtrs.push(Deno.UnsafePointer.create(hdrBase + BigInt(i * MMSGHDR_BYTES)));
    }
    this.#lens = new Int32Array(batchSize);
    this.#msgFirst = new Int32Array(batchSize);
    this.#msgSegs = new Int32Array(batchSize);
    this.#msgSegSize = new Int32Array(batchSize);
    this.#msgBytes = new Int32Array(batchSize);
    this.#dests = new Array(batchSize).fill(null);
  }

  destination(hostname: string, port: number): UdpDestination {
    return new SockaddrDestination(hostname, port, checkDestination(hostname, port));
  }

  slot(): Uint8Array {
    return this.#slots[this.#count];
  }

  /**
   * Queues the current slot. With GSO on, a datagram to the same destination
   * as the message before it joins that message when the message's segments
   * are all full-size and this one is not larger (udp(7): every segment has
   * gso_size bytes but the last) — a client's packets of one packet time go
   * out as one message.
   */
  commit(length: number, dest: UdpDestination): void {
    if (this.#closed) throw new Error("sender is closed");
    checkCommitLength(length, this.maxDatagramBytes);
    const d = dest instanceof SockaddrDestination ? dest : this.#adopt(dest);
    const i = this.#count;
    this.#iov32[(i * IOVEC_BYTES + IOV_LEN_OFFSET) / U32_BYTES] = length;
    this.#lens[i] = length;
    this.#dests[i] = d; // keeps the sockaddr alive while the kernel may read it
    this.#count = i + 1;
    const m = this.#messages - 1;
    if (
      this.gso && this.#open && this.#dests[this.#msgFirst[m]] === d &&
      length <= this.#msgSegSize[m] && this.#msgSegs[m] < UDP_MAX_SEGMENTS &&
      this.#msgBytes[m] + length <= UDP_GSO_MAX_BYTES
    ) {
      this.#msgSegs[m]++;
      this.#msgBytes[m] += length;
      this.#open = length === this.#msgSegSize[m];
    } else {
      const k = this.#messages++;
      this.#msgFirst[k] = i;
      this.#msgSegs[k] = 1;
      this.#msgSegSize[k] = length;
      this.#msgBytes[k] = length;
      this.#open = true;
      const h = (k * MMSGHDR_BYTES) / U32_BYTES;
      this.#hdr32[h + MSG_NAME_OFFSET / U32_BYTES] = d.sockaddrLo;
      this.#hdr32[h + MSG_NAME_OFFSET / U32_BYTES + 1] = d.sockaddrHi;
      this.#hdr32[h + MSG_IOV_OFFSET / U32_BYTES] = this.#iovAddrLo[i];
      this.#hdr32[h + MSG_IOV_OFFSET / U32_BYTES + 1] = this.#iovAddrHi[i];
    }
    if (this.#count === this.batchSize) this.flush();
  }

  /** Writes each message's iovec count and, for several segments, its UDP_SEGMENT control. */
  #finishHeaders(): void {
    for (let k = 0; k < this.#messages; k++) {
      const h = (k * MMSGHDR_BYTES) / U32_BYTES;
      const segs = this.#msgSegs[k];
      this.#hdr32[h + MSG_IOVLEN_OFFSET / U32_BYTES] = segs;
      this.#hdr32[h + MSG_IOVLEN_OFFSET / U32_BYTES + 1] = 0;
      if (segs > 1) {
        this.#cmsg.setUint16(k * CMSG_GSO_SPACE + CMSG_DATA_OFFSET, this.#msgSegSize[k], true);
        this.#hdr32[h + MSG_CONTROL_OFFSET / U32_BYTES] = this.#cmsgAddrLo[k];
        this.#hdr32[h + MSG_CONTROL_OFFSET / U32_BYTES + 1] = this.#cmsgAddrHi[k];
        this.#hdr32[h + MSG_CONTROLLEN_OFFSET / U32_BYTES] = CMSG_GSO_SPACE;
      } else {
        this.#hdr32[h + MSG_CONTROL_OFFSET / U32_BYTES] = 0;
        this.#hdr32[h + MSG_CONTROL_OFFSET / U32_BYTES + 1] = 0;
        this.#hdr32[h + MSG_CONTROLLEN_OFFSET / U32_BYTES] = 0;
      }
    }
  }

  /**
   * Sends the queued messages. A short count is followed by a send of the
   * rest; EAGAIN/ENOBUFS/EINTR get one retry per flush, then the rest is
   * counted as errors; any other errno drops the one message it refers to.
   * A GSO message the kernel refuses (EIO/EINVAL: no segmentation on this
   * path) turns GSO off for good; its datagrams are counted as errors.
   */
  flush(): void {
    const n = this.#messages;
    if (n === 0) return;
    this.#finishHeaders();
    this.#messages = 0;
    this.#open = false;
    let start = 0;
    let retried = false;
    while (start < n) {
      this.syscalls++;
      const sent = this.#calls.sendmmsg(this.fd, this.#hdrPtrs[start], n - start, MSG_DONTWAIT);
      if (sent > 0) {
        for (let k = start; k < start + sent; k++) {
          this.stats.bytes += this.#msgBytes[k];
          this.stats.packets += this.#msgSegs[k];
          if (this.#msgSegs[k] > 1) this.gsoMessages++;
        }
        start += sent;
        continue;
      }
      const code = sent < 0 ? this.#calls.errno() : EAGAIN;
      if (isTransient(code)) {
        if (!retried) {
          retried = true;
          continue;
        }
        for (let k = start; k < n; k++) this.#fail(this.#msgSegs[k], code);
        break;
      }
      if (this.#msgSegs[start] > 1 && (code === EIO || code === EINVAL)) this.gso = false;
      this.#fail(this.#msgSegs[start], code);
      start++;
    }
    for (let k = 0; k < this.#count; k++) this.#dests[k] = null;
    this.#count = 0;
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
