/**
 * Multicast sending on a chosen interface (setsockopt via ../../ffi/libc.ts):
 * IP_MULTICAST_IF with struct ip_mreqn (by interface index, so the group
 * leaves that interface whatever the routing table says), IP_MULTICAST_TTL,
 * IP_MULTICAST_LOOP (on: a receiver on this host, e.g. a test or a second
 * box's process, hears the streams), and IP_MTU_DISCOVER = IP_PMTUDISC_DO
 * (DF set: the kernel refuses a datagram larger than the path MTU with
 * EMSGSIZE instead of fragmenting it).
 */
import {
  CLOCK_REALTIME,
  errno,
  IP_MREQN_BYTES,
  IP_MTU_DISCOVER,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_PMTUDISC_DO,
  IPPROTO_IP,
  libc,
  strerror,
} from "../../ffi/libc.ts";

function setInt(fd: number, opt: number, name: string, value: number): void {
  const rc = libc().setsockopt(fd, IPPROTO_IP, opt, new Int32Array([value]), 4);
  if (rc !== 0) throw new Error(`setsockopt(fd ${fd}, ${name}, ${value}): ${strerror(errno())}`);
}

export interface MulticastOptions {
  /** Interface index (/sys/class/net/<if>/ifindex). */
  ifindex: number;
  ttl: number;
  loop?: boolean;
}

/** Sends this socket's multicast out of `ifindex` with `ttl`, never fragmented. */
export function setMulticastSending(fd: number, o: MulticastOptions): void {
  const mreqn = new Uint8Array(IP_MREQN_BYTES);
  new DataView(mreqn.buffer).setInt32(8, o.ifindex, true);
  const rc = libc().setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, mreqn, IP_MREQN_BYTES);
  if (rc !== 0) {
    throw new Error(
      `setsockopt(fd ${fd}, IP_MULTICAST_IF, ifindex ${o.ifindex}): ${strerror(errno())}`,
    );
  }
  setInt(fd, IP_MULTICAST_TTL, "IP_MULTICAST_TTL", o.ttl);
  setInt(fd, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", o.loop === false ? 0 : 1);
  setInt(fd, IP_MTU_DISCOVER, "IP_MTU_DISCOVER", IP_PMTUDISC_DO);
}

/** Reads an int socket option (tests check what was set). */
export function getIntOption(fd: number, opt: number): number {
  const val = new Int32Array(1);
  const len = new Uint32Array([4]);
  const rc = libc().getsockopt(fd, IPPROTO_IP, opt, val, len);
  if (rc !== 0) throw new Error(`getsockopt(fd ${fd}, ${opt}): ${strerror(errno())}`);
  return val[0];
}

const timespec = new BigInt64Array(2);

/** CLOCK_REALTIME in epoch ms with ns resolution (the clock ptp4l disciplines). */
export function realtimeMs(): number {
  const rc = libc().clock_gettime(CLOCK_REALTIME, timespec);
  if (rc !== 0) return Date.now();
  return Number(timespec[0]) * 1000 + Number(timespec[1]) / 1e6;
}
