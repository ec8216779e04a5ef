/**
 * A protocol-level test client: a WebSocket and a UDP socket, driven step by
 * step so tests can assert each message of the contract.
 */
import { parseRtp, type RtpPacketInfo } from "../../src/rtp/packet.ts";

export interface ReceivedPacket {
  info: RtpPacketInfo;
  bytes: Uint8Array;
  at: number;
}

export class Probe {
  readonly messages: Record<string, unknown>[] = [];
  readonly packets: ReceivedPacket[] = [];
  private waiters: (() => void)[] = [];
  closeCode: number | null = null;
  clientId = "";
  udp: Deno.DatagramConn | null = null;
  udpPort = 0;
  private receiving: Promise<void> | null = null;

  private constructor(readonly base: string, readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      this.messages.push(JSON.parse(e.data));
      this.wake();
    };
    ws.onclose = (e) => {
      this.closeCode = e.code;
      this.wake();
    };
  }

  static async connect(base: string): Promise<Probe> {
    const ws = new WebSocket(base.replace(/^http/, "ws") + "/ws");
    const p = new Probe(base, ws);
    const welcome = await p.next("welcome");
    p.clientId = welcome.client_id as string;
    return p;
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds, checking after every message/packet; fails after `timeoutMs`. */
  async until<T>(what: string, pred: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const v = pred();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** The next not-yet-consumed message of `type`. */
  private consumed = new Set<number>();
  next(type: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return this.until(`message ${type}`, () => {
      const i = this.messages.findIndex((m, i) => m.type === type && !this.consumed.has(i));
      if (i < 0) return undefined;
      this.consumed.add(i);
      return this.messages[i];
    }, timeoutMs);
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Opens the client's UDP socket on `hostname` (another address for a server in a namespace). */
  openUdp(hostname = "127.0.0.1"): number {
    this.udp = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    this.udpPort = (this.udp.addr as Deno.NetAddr).port;
    this.receiving = (async () => {
      try {
        for await (const [data] of this.udp!) {
          // RTCP that lands here (another session's SRs to its udp_port + 1, when the kernel
          // gave two probes adjacent ports) is told apart as RFC 5761 §4 does: PT 200–204.
          if (data.length >= 2 && data[1] >= 200 && data[1] <= 204) continue;
          this.packets.push({ info: parseRtp(data), bytes: data, at: performance.now() });
          this.wake();
        }
      } catch {
        // socket closed
      }
    })();
    return this.udpPort;
  }

  async requestAudio(extra = ""): Promise<Response> {
    return await fetch(
      `${this.base}/request-audio?udp_port=${this.udpPort}&client_id=${this.clientId}${extra}`,
    );
  }

  /** WebSocket + UDP + /request-audio + client_config → ack. */
  static async streaming(base: string, payload: Record<string, unknown>) {
    const p = await Probe.connect(base);
    p.openUdp();
    const r = await p.requestAudio();
    const req = await r.json();
    if (r.status !== 200) throw new Error(`request-audio: ${JSON.stringify(req)}`);
    p.send({ type: "client_config", payload });
    const ack = (await p.next("client_config_ack")).payload as Record<string, unknown>;
    return { probe: p, req, ack };
  }

  async waitPackets(n: number, timeoutMs = 5000): Promise<ReceivedPacket[]> {
    await this.until(`${n} RTP packets`, () => this.packets.length >= n, timeoutMs);
    return this.packets;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close();
      await this.until("close", () => this.closeCode !== null, 2000).catch(() => {});
    }
    this.udp?.close();
    await this.receiving;
  }
}

/** Decodes the big-endian samples of one packet to [frame][channel]. */
export function decodePcm(pkt: ReceivedPacket, channels: number, bytes: 2 | 3): number[][] {
  const { payloadOffset, payloadLength } = pkt.info;
  const b = pkt.bytes.subarray(payloadOffset, payloadOffset + payloadLength);
  const frames: number[][] = [];
  for (let o = 0; o + channels * bytes <= b.length;) {
    const f: number[] = [];
    for (let c = 0; c < channels; c++) {
      let v = bytes === 3 ? (b[o] << 16) | (b[o + 1] << 8) | b[o + 2] : (b[o] << 8) | b[o + 1];
      const bits = bytes * 8;
      if (v & (1 << (bits - 1))) v -= 1 << bits;
      f.push(v);
      o += bytes;
    }
    frames.push(f);
  }
  return frames;
}
