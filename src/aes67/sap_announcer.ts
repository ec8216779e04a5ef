/**
 * Sends SAP announcements and deletions (./sap_packet.ts) to
 * 239.255.255.255:9875 out of the output's interface. When they are sent
 * (every SAP_INTERVAL_MS, SAP_REPEATS_MS after a session starts, a deletion
 * when one stops or changes) is the service's (./service.ts).
 */
import { setDscp } from "../net/dscp.ts";
import { findUdpSocketFd } from "../net/socket_fd.ts";
import { setMulticastSending } from "./multicast.ts";
import { originLine } from "./sdp_build.ts";
import { buildSapPacket, SAP_GROUP, SAP_PORT } from "./sap_packet.ts";

export interface SapSocketOptions {
  ifindex: number;
  ttl: number;
  dscp: number;
}

export class SapSocket {
  private readonly conn: Deno.DatagramConn;
  sent = 0;
  errors = 0;
  lastError = "";

  constructor(o: SapSocketOptions) {
    this.conn = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
    try {
      const fd = findUdpSocketFd((this.conn.addr as Deno.NetAddr).port, "0.0.0.0");
      setMulticastSending(fd, { ifindex: o.ifindex, ttl: o.ttl });
      if (o.dscp !== 0) setDscp(fd, o.dscp);
    } catch (e) {
      this.conn.close();
      throw e;
    }
  }

  /** Announces (or deletes) `sdp` from `origin`. Errors are counted, never thrown. */
  async send(origin: string, sdp: string, deletion = false): Promise<void> {
    const pkt = buildSapPacket({
      origin,
      sdp,
      deletion,
      payload: deletion ? originLine(sdp) : undefined,
    });
    try {
      await this.conn.send(pkt, { transport: "udp", hostname: SAP_GROUP, port: SAP_PORT });
      this.sent++;
    } catch (e) {
      this.errors++;
      this.lastError = (e as Error).message;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }
}
