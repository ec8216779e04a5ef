/**
 * Sends one datagram to an AF_UNIX SOCK_DGRAM address through libc (Debian
 * package `libc6`). Deno's own `unixpacket` datagram sockets must bind a path
 * first and cannot reach Linux abstract addresses ("@name"), both of which
 * systemd's NOTIFY_SOCKET may use; socket(2) + sendto(2) handle both and need
 * no file of our own.
 *
 * struct sockaddr_un (110 bytes, <sys/un.h>)
 *   0  sa_family_t sun_family  (u16, AF_UNIX = 1)
 *   2  char        sun_path[108]
 * Path address:     sun_path = path bytes + NUL,  addrlen = 2 + len + 1
 * Abstract address: sun_path = NUL + name bytes, addrlen = 2 + 1 + len (no NUL)
 */

export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_NOSIGNAL = 0x4000;
export const SUN_FAMILY_OFFSET = 0;
export const SUN_PATH_OFFSET = 2;
export const SUN_PATH_BYTES = 108;
export const SOCKADDR_UN_BYTES = SUN_PATH_OFFSET + SUN_PATH_BYTES;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Lib | null = null;

function libc(): Lib {
  if (!lib) {
    try {
      lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    } catch (e) {
      throw new Error(
        `cannot load libc.so.6 (Debian package libc6): ${e instanceof Error ? e.message : e}`,
      );
    }
  }
  return lib;
}

function errno(l: Lib): number {
  const p = l.__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/**
 * Encodes a NOTIFY_SOCKET-style address ("/run/x.sock" or "@abstract") as
 * sockaddr_un; returns the buffer and the address length to pass to sendto.
 */
export function encodeSockaddrUn(address: string): { addr: Uint8Array; len: number } {
  const abstract = address.startsWith("@");
  const name = new TextEncoder().encode(abstract ? address.slice(1) : address);
  const max = SUN_PATH_BYTES - 1;
  if (name.length === 0) throw new RangeError("unix socket address is empty");
  if (name.length > max) {
    throw new RangeError(`unix socket address needs at most ${max} bytes, got ${name.length}`);
  }
  if (!abstract && !address.startsWith("/")) {
    throw new RangeError(`unix socket address must be absolute or @abstract, got "${address}"`);
  }
  const addr = new Uint8Array(SOCKADDR_UN_BYTES);
  new DataView(addr.buffer).setUint16(SUN_FAMILY_OFFSET, AF_UNIX, true);
  addr.set(name, SUN_PATH_OFFSET + (abstract ? 1 : 0));
  const len = SUN_PATH_OFFSET + name.length + 1; // the leading NUL or the trailing one
  return { addr, len };
}

/** A connectionless AF_UNIX datagram sender bound to one destination. */
export class UnixDatagramSender {
  private fd: number;
  private readonly dest: { addr: Uint8Array; len: number };

  constructor(readonly address: string) {
    this.dest = encodeSockaddrUn(address);
    const l = libc();
    this.fd = l.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (this.fd < 0) throw new Error(`socket(AF_UNIX, SOCK_DGRAM) failed: errno ${errno(l)}`);
  }

  /** Sends one datagram; throws with errno when the kernel refuses it. */
  send(data: Uint8Array): void {
    if (this.fd < 0) throw new Error("unix datagram sender is closed");
    const l = libc();
    const n = Number(
      l.sendto(
        this.fd,
        data as Uint8Array<ArrayBuffer>,
        BigInt(data.length),
        MSG_NOSIGNAL,
        this.dest.addr as Uint8Array<ArrayBuffer>,
        this.dest.len,
      ),
    );
    if (n < 0) throw new Error(`sendto ${this.address} failed: errno ${errno(l)}`);
    if (n !== data.length) {
      throw new Error(`sendto ${this.address} sent ${n} of ${data.length} bytes`);
    }
  }

  close(): void {
    if (this.fd >= 0) libc().close(this.fd);
    this.fd = -1;
  }
}
