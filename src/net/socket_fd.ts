/**
 * Finds the file descriptor behind a Deno UDP socket, so libc calls
 * (setsockopt, sendmmsg) can act on the very socket Deno bound.
 *
 * Linux lists IPv4 UDP sockets in /proc/net/udp (proc(5), net/ipv4/udp.c
 * `udp4_format_sock`), one per line after a header:
 *
 *    sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 *   123: 0100007F:13BC 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 45678 2 0000000000000000 0
 *
 * `local_address` is the IPv4 address as the kernel's `%08X` of the in-memory
 * (network-order) word — so byte-reversed on little-endian hosts — a colon and
 * the port in hex. `inode` (column 10) is the socket inode that
 * /proc/self/fd/N links to as "socket:[45678]".
 */

export interface ProcUdpEntry {
  /** Dotted quad, e.g. "127.0.0.1". */
  localAddress: string;
  localPort: number;
  inode: number;
}

const COL_LOCAL = 1;
const COL_INODE = 9;
const MIN_COLUMNS = 10;
const HEX_ADDR_CHARS = 8;
const HEX_PORT_CHARS = 4;

/** Parses /proc/net/udp text; lines that do not look like socket entries are skipped. */
export function parseProcNetUdp(text: string, littleEndian = true): ProcUdpEntry[] {
  const out: ProcUdpEntry[] = [];
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < MIN_COLUMNS || !/^\d+:$/.test(cols[0])) continue;
    const local = cols[COL_LOCAL].split(":");
    if (local.length !== 2) continue;
    const [hexAddr, hexPort] = local;
    if (
      hexAddr.length !== HEX_ADDR_CHARS || hexPort.length !== HEX_PORT_CHARS ||
      !/^[0-9A-Fa-f]+$/.test(hexAddr + hexPort) || !/^\d+$/.test(cols[COL_INODE])
    ) continue;
    const word = parseInt(hexAddr, 16);
    const bytes = [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
    if (littleEndian) bytes.reverse();
    out.push({
      localAddress: bytes.join("."),
      localPort: parseInt(hexPort, 16),
      inode: Number(cols[COL_INODE]),
    });
  }
  return out;
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** Maps socket inode → fd for this process's open sockets (readlink /proc/self/fd/*). */
export function ownSocketInodes(fdDir = "/proc/self/fd"): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of Deno.readDirSync(fdDir)) {
    let target: string;
    try {
      target = Deno.readLinkSync(`${fdDir}/${entry.name}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    const m = SOCKET_LINK.exec(target);
    if (m) map.set(Number(m[1]), Number(entry.name));
  }
  return map;
}

/**
 * The fd of this process's IPv4 UDP socket bound to `port` (and to `hostname`
 * when it is a specific address). Throws an Error when there is none or when
 * several match.
 */
export function findUdpSocketFd(port: number, hostname = "0.0.0.0"): number {
  const entries = parseProcNetUdp(Deno.readTextFileSync("/proc/net/udp"))
    .filter((e) => e.localPort === port);
  const own = ownSocketInodes();
  const mine = entries.filter((e) => own.has(e.inode));
  const exact = mine.filter((e) => e.localAddress === hostname);
  const pick = exact.length === 1 ? exact : mine;
  if (pick.length === 0) {
    throw new Error(
      `no UDP socket of this process is bound to port ${port} ` +
        `(${entries.length} socket(s) on that port in /proc/net/udp)`,
    );
  }
  if (pick.length > 1) {
    throw new Error(`${pick.length} UDP sockets of this process are bound to port ${port}`);
  }
  return own.get(pick[0].inode)!;
}
