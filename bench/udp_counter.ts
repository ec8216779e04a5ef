/**
 * The benchmarks' receiving end, run as a SEPARATE process so the cost of
 * receiving is not charged to the sender being measured: binds N loopback
 * UDP ports and counts the datagrams and bytes that reach each one.
 *
 * Draining uses libc recvmmsg(2) with MSG_DONTWAIT on every socket every
 * POLL_MS (one system call per socket per poll, up to BATCH datagrams each),
 * into one scratch buffer: contents are not inspected, only counted.
 *
 *   deno run -A bench/udp_counter.ts <ports>
 *
 * Protocol (line-delimited JSON): on start it prints `{"ports":[...]}`; every
 * line read on stdin is answered with a snapshot
 * `{"packets":[per port...],"bytes":total,"ms":performance.now()}`; it exits
 * when stdin closes.
 */

import {
  IOV_BASE_OFFSET,
  IOV_LEN_OFFSET,
  IOVEC_BYTES,
  MMSGHDR_BYTES,
  MSG_DONTWAIT,
  MSG_IOV_OFFSET,
  MSG_IOVLEN_OFFSET,
  MSG_LEN_OFFSET,
  SOL_SOCKET,
} from "../ffi/libc.ts";
import { findUdpSocketFd } from "../src/net/socket_fd.ts";

const HOST = "127.0.0.1";
const POLL_MS = 2;
const BATCH = 64;
const SCRATCH_BYTES = 65536;
/** SO_RCVBUFFORCE (root may exceed net.core.rmem_max), then SO_RCVBUF. */
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const RCVBUF_BYTES = 4 * 1024 * 1024;

const lib = Deno.dlopen("libc.so.6", {
  /** int recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout) */
  recvmmsg: { parameters: ["i32", "pointer", "u32", "i32", "pointer"], result: "i32" },
  /** int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen) */
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
});

const count = Number(Deno.args[0]);
if (!Number.isInteger(count) || count < 1) {
  console.error(`udp_counter needs a positive port count, got ${Deno.args[0]}`);
  Deno.exit(2);
}

const conns = Array.from(
  { length: count },
  () => Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 }),
);
const ports = conns.map((c) => (c.addr as Deno.NetAddr).port);
const fds = ports.map((p) => findUdpSocketFd(p, HOST));
const rcvbuf = new Int32Array([RCVBUF_BYTES]);
for (const fd of fds) {
  const bytes = new Uint8Array(rcvbuf.buffer);
  if (lib.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes, 4) !== 0) {
    lib.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, bytes, 4);
  }
}

// Every message of the batch points at the same iovec and scratch buffer.
const scratch = new Uint8Array(new ArrayBuffer(SCRATCH_BYTES));
const iov = new BigUint64Array(new ArrayBuffer(IOVEC_BYTES));
iov[IOV_BASE_OFFSET / 8] = Deno.UnsafePointer.value(Deno.UnsafePointer.of(scratch));
iov[IOV_LEN_OFFSET / 8] = BigInt(SCRATCH_BYTES);
const iovPtr = Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(iov.buffer)));
const hdrs = new ArrayBuffer(BATCH * MMSGHDR_BYTES);
const hdr64 = new BigUint64Array(hdrs);
const hdr32 = new Uint32Array(hdrs);
for (let i = 0; i < BATCH; i++) {
  hdr64[(i * MMSGHDR_BYTES + MSG_IOV_OFFSET) / 8] = iovPtr;
  hdr64[(i * MMSGHDR_BYTES + MSG_IOVLEN_OFFSET) / 8] = 1n;
}
const hdrPtr = Deno.UnsafePointer.of(new Uint8Array(hdrs));

const packets = new Float64Array(count);
let bytes = 0;

function drain(): void {
  for (let s = 0; s < count; s++) {
    for (;;) {
      const n = lib.symbols.recvmmsg(fds[s], hdrPtr, BATCH, MSG_DONTWAIT, null);
      if (n <= 0) break;
      packets[s] += n;
      for (let i = 0; i < n; i++) bytes += hdr32[(i * MMSGHDR_BYTES + MSG_LEN_OFFSET) / 4];
      if (n < BATCH) break;
    }
  }
}

const timer = setInterval(drain, POLL_MS);
const encoder = new TextEncoder();
const out = (obj: unknown) => Deno.stdout.writeSync(encoder.encode(JSON.stringify(obj) + "\n"));
out({ ports });

const decoder = new TextDecoder();
for await (const chunk of Deno.stdin.readable) {
  const lines = decoder.decode(chunk).split("\n").length - 1;
  for (let i = 0; i < lines; i++) {
    drain();
    out({ packets: Array.from(packets), bytes, ms: performance.now() });
  }
}
clearInterval(timer);
for (const c of conns) c.close();
lib.close();
