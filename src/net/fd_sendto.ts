/**
 * sendto(2) on a UDP socket some other code owns (found by its port through
 * ./socket_fd.ts): one synchronous system call per datagram, from a buffer
 * the caller reuses, with no promise, callback or Buffer per send. The
 * DataChannel's record path (src/listener/sctp_tuning.ts) sends the server's
 * DTLS records this way on the socket werift's ICE chose, where node:dgram
 * would copy each record into a Buffer and go through its send op.
 */
import {
  EAGAIN,
  EINTR,
  ENOBUFS,
  errno,
  libc,
  MSG_DONTWAIT,
  SOCKADDR_IN_BYTES,
} from "../../ffi/libc.ts";
import { writeSockaddrIn } from "./sendmmsg_sender.ts";
import { findUdpSocketFd } from "./socket_fd.ts";

/** The libc calls used (tests wrap them to inject errnos). */
export interface SendtoCalls {
  sendto(
    fd: number,
    buf: Uint8Array,
    len: number | bigint,
    flags: number,
    addr: Uint8Array,
    addrLen: number,
  ): number | bigint;
  errno(): number;
}

/** recvfrom(2) as the reader calls it (tests wrap it). */
export interface RecvfromCalls {
  recvfrom(
    fd: number,
    buf: Uint8Array,
    len: number | bigint,
    flags: number,
    addr: Uint8Array,
    addrLen: Uint32Array,
  ): number | bigint;
  errno(): number;
}

function libcCalls(): SendtoCalls & RecvfromCalls {
  const sys = libc();
  return { sendto: sys.sendto, recvfrom: sys.recvfrom, errno };
}

/** recv(2): also report a datagram's real length when it did not fit. */
export const MSG_TRUNC = 0x20;

/** "a.b.c.d" as a u32, or -1 when it is not a dotted-quad IPv4 literal. */
export function parseIpv4(host: string): number {
  const parts = host.split(".");
  if (parts.length !== 4) return -1;
  let ip = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return -1;
    const b = Number(p);
    if (b > 255) return -1;
    ip = ip * 256 + b;
  }
  return ip;
}

export class FdDatagramSender {
  /** Datagrams the kernel took. */
  sent = 0;
  /** Datagrams dropped for a full socket buffer (EAGAIN / ENOBUFS), as the kernel drops UDP. */
  dropped = 0;
  /** The errno of the last send that failed otherwise (0: none). */
  lastErrno = 0;
  private readonly addr = new Uint8Array(SOCKADDR_IN_BYTES);
  private host = "";
  private port = -1;

  constructor(readonly fd: number, private readonly calls: SendtoCalls = libcCalls()) {}

  /** The sender for this process's UDP socket bound to `port`; throws when there is none. */
  static forPort(port: number, hostname = "0.0.0.0", calls?: SendtoCalls): FdDatagramSender {
    const sys = calls ?? libcCalls(); // throws first when FFI or libc is missing
    return new FdDatagramSender(findUdpSocketFd(port, hostname), sys);
  }

  /**
   * Sends `buf[0, length)` to `host:port` (an IPv4 literal). True when the
   * kernel took the datagram or dropped it for a full buffer (UDP: lost);
   * false on any other failure (a closed socket, an address it cannot
   * reach): the caller sends it another way.
   */
  send(buf: Uint8Array, length: number, host: string, port: number): boolean {
    if (host !== this.host || port !== this.port) {
      const ip = parseIpv4(host);
      if (ip < 0 || port <= 0 || port > 65535) return false;
      writeSockaddrIn(this.addr, ip, port);
      this.host = host;
      this.port = port;
    }
    const n = this.calls.sendto(this.fd, buf, length, MSG_DONTWAIT, this.addr, SOCKADDR_IN_BYTES);
    if (Number(n) >= 0) {
      this.sent++;
      return true;
    }
    const code = this.calls.errno();
    if (code === EAGAIN || code === ENOBUFS || code === EINTR) {
      this.dropped++;
      return true;
    }
    this.lastErrno = code;
    return false;
  }
}

/** Reads the datagrams waiting on a socket, without blocking, into one reused buffer. */
export class FdDatagramReader {
  /** The last datagram read (its first `next()` bytes). */
  readonly buf: Uint8Array;
  /** Datagrams read, and those dropped for not fitting `buf`. */
  received = 0;
  truncated = 0;
  /** The errno of the last read that failed otherwise than "nothing waiting" (0: none). */
  lastErrno = 0;
  private readonly addr = new Uint8Array(SOCKADDR_IN_BYTES);
  private readonly addrLen = new Uint32Array(1);

  constructor(
    readonly fd: number,
    size = 4096,
    private readonly calls: RecvfromCalls = libcCalls(),
  ) {
    this.buf = new Uint8Array(size);
  }

  /**
   * The length of the next datagram waiting, now in `buf`; -1 when none is
   * waiting or the socket failed (`lastErrno`). A datagram larger than `buf`
   * is dropped.
   */
  next(): number {
    for (;;) {
      this.addrLen[0] = SOCKADDR_IN_BYTES;
      const n = Number(
        this.calls.recvfrom(
          this.fd,
          this.buf,
          this.buf.length,
          MSG_DONTWAIT | MSG_TRUNC,
          this.addr,
          this.addrLen,
        ),
      );
      if (n > this.buf.length) {
        this.truncated++;
        continue;
      }
      if (n >= 0) {
        this.received++;
        return n;
      }
      const code = this.calls.errno();
      if (code === EINTR) continue;
      if (code !== EAGAIN) this.lastErrno = code;
      return -1;
    }
  }

  /** The last datagram's source port. */
  get fromPort(): number {
    return (this.addr[2] << 8) | this.addr[3];
  }

  /** The last datagram's source address, dotted. */
  get fromHost(): string {
    const a = this.addr;
    return `${a[4]}.${a[5]}.${a[6]}.${a[7]}`;
  }
}
