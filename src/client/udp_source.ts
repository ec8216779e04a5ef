/** Deno adapter: the client's RTP receive socket (Deno.listenDatagram, unstable "net"). */

import type { DatagramSource } from "./session.ts";

export const DEFAULT_CLIENT_UDP_PORT = 5004;

/** Binds `hostname:port` (port 0 = any free port; the bound one is `port`). */
export function openUdpSource(port: number, hostname = "0.0.0.0"): DatagramSource {
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port });
  const bound = (conn.addr as Deno.NetAddr).port;
  let closed = false;
  return {
    port: bound,
    async receive(buf: Uint8Array): Promise<number> {
      const [data] = await conn.receive(buf);
      return data.length;
    },
    close(): void {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };
}
