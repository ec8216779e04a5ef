/**
 * A UDP socket that receives one IPv4 multicast group on one port.
 *
 * It binds the group address itself (so it gets only that group's
 * datagrams) with SO_REUSEADDR, and joins the group on `interfaceAddress`
 * ("0.0.0.0": the interface the kernel routes the group to).
 *
 * Its receive buffer is enlarged (RECEIVE_BUFFER_BYTES, up to the kernel's
 * limit), so a receiving thread held up for a while loses nothing.
 *
 * AES67 streams use port 5004, the box's own RTP port by default. Linux
 * refuses a second bind of a port unless every socket on it allows sharing,
 * so when a socket of this very process (the RTP sender, bound to 0.0.0.0)
 * holds the port, it is told to share it (SO_REUSEADDR) and to take only the
 * multicast it joined itself (IP_MULTICAST_ALL off: none), then the bind is
 * tried again. A port held by another process stays an error.
 */
import { errno, IPPROTO_IP, libc, SOL_SOCKET, strerror } from "../../ffi/libc.ts";
import { findUdpSocketFd } from "../net/socket_fd.ts";

const SO_REUSEADDR = 2;
const SO_RCVBUF = 8;
/**
 * Receive buffer asked for (the kernel caps it at net.core.rmem_max): the
 * default 208 KiB holds ~250 ms of a 1 ms stream, and a receiving thread
 * held up longer than that lost packets in the kernel (RcvbufErrors) on a
 * loaded host.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
const IP_MULTICAST_ALL = 49;

function setIntOption(fd: number, level: number, name: number, value: number, what: string) {
  const rc = libc().setsockopt(fd, level, name, new Int32Array([value]), 4);
  if (rc !== 0) throw new Error(`setsockopt(fd ${fd}, ${what}): ${strerror(errno())}`);
}

/** Lets a later socket bind `port` on a group while our own 0.0.0.0:`port` socket keeps it. */
export function sharePortWithMulticast(port: number): boolean {
  let fd: number;
  try {
    fd = findUdpSocketFd(port, "0.0.0.0");
  } catch {
    return false;
  }
  setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  setIntOption(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  return true;
}

/** Binds `group:port` (sharing the port, see the header) and joins the group. */
export async function openMulticastReceiver(
  group: string,
  port: number,
  interfaceAddress = "0.0.0.0",
): Promise<Deno.DatagramConn> {
  const bind = () =>
    Deno.listenDatagram({ transport: "udp", hostname: group, port, reuseAddress: true });
  let conn: Deno.DatagramConn;
  try {
    conn = bind();
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse) || !sharePortWithMulticast(port)) {
      throw new Error(`cannot receive ${group}:${port}: ${(e as Error).message}`);
    }
    conn = bind();
  }
  try {
    // Not fatal: the kernel default buffer works, it is only shorter.
    setIntOption(
      findUdpSocketFd(port, group),
      SOL_SOCKET,
      SO_RCVBUF,
      RECEIVE_BUFFER_BYTES,
      "SO_RCVBUF",
    );
  } catch { /* another socket of ours on the same group and port, or no FFI */ }
  try {
    await conn.joinMulticastV4(group, interfaceAddress);
  } catch (e) {
    conn.close();
    throw new Error(
      `cannot join multicast group ${group} on ${interfaceAddress}: ${(e as Error).message}` +
        ` (is there a route for 224.0.0.0/4 or a default route?)`,
    );
  }
  return conn;
}
