/**
 * Datagrams the kernel dropped at one 127.0.0.1 UDP socket because its receive
 * buffer was full (the receiving process was not scheduled in time): the
 * `drops` column of /proc/net/udp for that local port. Read it before closing.
 */
export async function udpSocketDrops(port: number): Promise<number> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of (await Deno.readTextFile("/proc/net/udp")).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) return Number(f[f.length - 1]);
  }
  throw new Error(`no UDP socket on 127.0.0.1:${port}`);
}
