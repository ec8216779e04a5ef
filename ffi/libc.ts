/**
 * Raw Deno FFI bindings to glibc (Debian package `libc6`): the socket-option
 * and batched-send calls the UDP sender needs, and errno access.
 *
 * The library is opened on first use, so importing this module never fails;
 * `libc()` throws an Error naming the package when it cannot be opened.
 * Struct layouts below are those of x86_64 and aarch64 Linux (LP64, little-endian).
 */

/** Debian package that provides libc.so.6. */
export const LIBC_PACKAGE = "libc6";
export const LIBC_PATH = "libc.so.6";

// <netinet/in.h>, <bits/socket.h>
export const AF_INET = 2;
export const SOL_SOCKET = 1;
export const IPPROTO_IP = 0;
export const IP_TOS = 1;
/** <linux/in.h>: the don't-fragment policy, and multicast sending (struct ip_mreqn, int, int). */
export const IP_MTU_DISCOVER = 10;
export const IP_PMTUDISC_DO = 2;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
/** struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex; } */
export const IP_MREQN_BYTES = 12;
export const CLOCK_REALTIME = 0;
export const MSG_DONTWAIT = 0x40;

// <asm-generic/errno-base.h>, <asm-generic/errno.h>
export const EINTR = 4;
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;
export const EBADF = 9;
export const EINVAL = 22;
export const EMSGSIZE = 90;
export const ENOBUFS = 105;
export const ENETUNREACH = 101;
export const ECONNREFUSED = 111;
export const EHOSTUNREACH = 113;

/**
 * struct iovec (16 bytes)      struct msghdr (56 bytes)           struct mmsghdr (64 bytes)
 *  0 void  *iov_base            0 void         *msg_name           0 struct msghdr msg_hdr
 *  8 size_t iov_len             8 socklen_t     msg_namelen (u32) 56 unsigned int  msg_len
 *                              16 struct iovec *msg_iov           60 (padding)
 *                              24 size_t        msg_iovlen
 *                              32 void         *msg_control
 *                              40 size_t        msg_controllen
 *                              48 int           msg_flags
 *                              52 (padding)
 */
export const IOVEC_BYTES = 16;
export const IOV_BASE_OFFSET = 0;
export const IOV_LEN_OFFSET = 8;
export const MMSGHDR_BYTES = 64;
export const MSG_NAME_OFFSET = 0;
export const MSG_NAMELEN_OFFSET = 8;
export const MSG_IOV_OFFSET = 16;
export const MSG_IOVLEN_OFFSET = 24;
export const MSG_CONTROL_OFFSET = 32;
export const MSG_CONTROLLEN_OFFSET = 40;
export const MSG_FLAGS_OFFSET = 48;
export const MSG_LEN_OFFSET = 56;
/** sizeof(struct sockaddr_in). */
export const SOCKADDR_IN_BYTES = 16;

/**
 * UDP generic segmentation offload (Linux ≥ 4.18, udp(7) UDP_SEGMENT): one
 * message whose payload the kernel cuts into datagrams of `gso_size` bytes
 * (the last may be shorter), passed as a control message:
 *
 * struct cmsghdr + u16 (CMSG_SPACE(2) = 24 bytes)
 *  0 size_t cmsg_len   = CMSG_LEN(2) = 18
 *  8 int    cmsg_level = SOL_UDP (17)
 * 12 int    cmsg_type  = UDP_SEGMENT (103)
 * 16 u16    gso_size
 * 18 (padding to 24)
 */
export const SOL_UDP = 17;
export const UDP_SEGMENT = 103;
export const CMSG_GSO_SPACE = 24;
export const CMSG_GSO_LEN = 18;
export const CMSG_LEVEL_OFFSET = 8;
export const CMSG_TYPE_OFFSET = 12;
export const CMSG_DATA_OFFSET = 16;
/** The kernel's UDP_MAX_SEGMENTS: datagrams one GSO message may carry. */
export const UDP_MAX_SEGMENTS = 64;
/** A GSO message's payload is one UDP datagram before segmentation: at most 65507 bytes. */
export const UDP_GSO_MAX_BYTES = 65507;
export const EIO = 5;

const SYMBOLS = {
  /** int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen) */
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  /** int getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen) */
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  /** int sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags) */
  sendmmsg: { parameters: ["i32", "pointer", "u32", "i32"], result: "i32" },
  /**
   * ssize_t sendto(int fd, const void *buf, size_t len, int flags,
   *                const struct sockaddr *dest_addr, socklen_t addrlen)
   */
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  /**
   * ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
   *                  struct sockaddr *src_addr, socklen_t *addrlen)
   */
  recvfrom: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "isize" },
  /** int *__errno_location(void) — the calling thread's errno. */
  __errno_location: { parameters: [], result: "pointer" },
  /** int clock_gettime(clockid_t clk, struct timespec *tp) — timespec: i64 sec, i64 nsec. */
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  /** char *strerror(int errnum) */
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
let errnoView: Deno.UnsafePointerView | null = null;

/** Opens libc on first call; throws an Error naming the Debian package if it cannot. */
export function libc(): LibcSymbols {
  if (lib) return lib.symbols;
  if (typeof Deno.dlopen !== "function") {
    throw new Error("Deno FFI is not available in this runtime (Deno.dlopen is missing)");
  }
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error("libc bindings assume a little-endian CPU");
  }
  try {
    lib = Deno.dlopen(LIBC_PATH, SYMBOLS);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot open ${LIBC_PATH} (install the Debian package ${LIBC_PACKAGE}, ` +
        `and run with --allow-ffi): ${why}`,
    );
  }
  return lib.symbols;
}

/** The current errno; read it right after the failing call, before any other FFI call. */
export function errno(): number {
  if (!errnoView) {
    const ptr = libc().__errno_location();
    if (ptr === null) throw new Error("__errno_location returned NULL");
    errnoView = new Deno.UnsafePointerView(ptr);
  }
  return errnoView.getInt32(0);
}

const messages = new Map<number, string>();

/** The C library's text for an errno value, e.g. "Resource temporarily unavailable (errno 11)". */
export function strerror(code: number): string {
  let msg = messages.get(code);
  if (msg === undefined) {
    const ptr = libc().strerror(code);
    const text = ptr === null ? "unknown error" : Deno.UnsafePointerView.getCString(ptr);
    msg = `${text} (errno ${code})`;
    messages.set(code, msg);
  }
  return msg;
}
