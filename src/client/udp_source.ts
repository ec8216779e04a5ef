/** Deno adapter: the client's RTP receive socket (Deno.listenDatagram, unstable "net"). */

import type { DatagramSource } from "./session.ts";
import type { RtcpChannel } from "./rtcp_receiver.ts";

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

/** Binds the RTCP socket on `hostname:port` (the RTP port + 1). */
export function openRtcpChannel(port: number, hostname = "0.0.0.0"): RtcpChannel {
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port });
  let closed = false;
  return {
    port: (conn.addr as Deno.NetAddr).port,
    async receive(buf: Uint8Array): Promise<number> {
      const [data] = await conn.receive(buf);
      return data.length;
    },
    async send(data: Uint8Array, host: string, to: number): Promise<void> {
      if (closed) return;
      await conn.send(data, { transport: "udp", hostname: host, port: to });
    },
    close(): void {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };
}
