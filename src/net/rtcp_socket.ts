/**
 * The server's RTCP socket on `rtp_port + 1` (docs/protocol.md §5): sender
 * reports and BYEs leave from it, receiver reports arrive on it. Sending never
 * throws: a client that does not listen on `udp_port + 1` answers with ICMP
 * port unreachable, which is counted and otherwise ignored.
 */
import { setDscp } from "./dscp.ts";
import { findUdpSocketFd } from "./socket_fd.ts";

/** The largest RTCP datagram read; longer ones are truncated and then refused by the parser. */
const RECEIVE_BYTES = 1500;

/** Where the RTCP agent (src/session/rtcp_agent.ts) sends its reports. */
export interface RtcpSocket {
  readonly localPort: number;
  /** Fire and forget: a refused datagram (ICMP port unreachable…) is counted, never thrown. */
  send(data: Uint8Array, hostname: string, port: number): void;
}

export class DenoRtcpSocket implements RtcpSocket {
  readonly localPort: number;
  sent = 0;
  sendErrors = 0;
  lastError = "";
  private closed = false;
  private readonly buf = new Uint8Array(RECEIVE_BYTES);

  private fd = -1;

  private constructor(
    private readonly conn: Deno.DatagramConn,
    private readonly hostname: string,
  ) {
    this.localPort = (conn.addr as Deno.NetAddr).port;
  }

  /** Binds `hostname:port`; throws (Deno.errors.AddrInUse…) when it cannot. */
  static open(hostname: string, port: number): DenoRtcpSocket {
    return new DenoRtcpSocket(
      Deno.listenDatagram({ transport: "udp", hostname, port }),
      hostname,
    );
  }

  /** Marks RTCP like the RTP it reports on (IP_TOS = dscp << 2); throws when it cannot. */
  setDscp(dscp: number): void {
    if (this.fd < 0) this.fd = findUdpSocketFd(this.localPort, this.hostname);
    setDscp(this.fd, dscp);
  }

  send(data: Uint8Array, hostname: string, port: number): void {
    if (this.closed) return;
    const failed = (e: unknown) => {
      this.sendErrors++;
      this.lastError = (e as Error).message;
    };
    try {
      this.conn.send(data, { transport: "udp", hostname, port }).then(() => this.sent++, failed);
    } catch (e) {
      failed(e);
    }
  }

  /** Reads datagrams until closed, handing each to `onDatagram` (which must not throw… but may). */
  async run(onDatagram: (data: Uint8Array, fromIp: string) => void): Promise<void> {
    while (!this.closed) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await this.conn.receive(this.buf);
      } catch (e) {
        if (this.closed) return;
        // An ICMP error reported on receive (Linux reports some on unconnected sockets): go on.
        this.lastError = (e as Error).message;
        continue;
      }
      const [data, addr] = got;
      try {
        onDatagram(data, (addr as Deno.NetAddr).hostname);
      } catch {
        // A report that trips the agent is dropped; the socket keeps reading.
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Opens the RTP sender and the RTCP socket as a pair (RTCP = RTP + 1). With
 * port 0 (tests) it retries ephemeral RTP ports until the next one is free too.
 */
export async function openPortPair<S extends { readonly localPort: number; close(): void }>(
  hostname: string,
  port: number,
  openRtp: (port: number) => Promise<S>,
  dscp = 0,
  warn: (msg: string, fields: Record<string, unknown>) => void = () => {},
): Promise<{ rtp: S; rtcp: DenoRtcpSocket }> {
  for (let attempt = 0;; attempt++) {
    const rtp = await openRtp(port);
    let rtcp: DenoRtcpSocket;
    try {
      rtcp = DenoRtcpSocket.open(hostname, rtp.localPort + 1);
    } catch (e) {
      rtp.close();
      if (port !== 0 || attempt >= 20 || rtp.localPort >= 65535) {
        throw new Error(
          `RTCP port ${rtp.localPort + 1} (RTP port + 1) cannot be bound: ${(e as Error).message}`,
        );
      }
      continue;
    }
    if (dscp !== 0) {
      try {
        rtcp.setDscp(dscp);
      } catch (e) {
        warn("rtcp socket left unmarked", { reason: (e as Error).message });
      }
    }
    return { rtp, rtcp };
  }
}

/** The SDES CNAME of this server's streams (RFC 3550 §6.5.1 `user@host`). */
export function rtcpCname(hostname: string): string {
  let host = hostname;
  if (host === "0.0.0.0" || host === "") {
    try {
      host = Deno.hostname();
    } catch {
      host = "m32-server.local";
    }
  }
  return `m32-server@${host}`;
}
