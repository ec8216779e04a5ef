/**
 * The DataChannel transport's server end (werift, pure-TS WebRTC): answers a
 * browser's offer and opens one unreliable, unordered DataChannel that
 * carries the session's RTP packets (src/listener/channel_sender.ts).
 *
 * Signalling rides on the listener WebSocket (docs/listener.md):
 *
 *   page                                   server
 *   {"type":"webrtc_offer","sdp":"v=0…"}  ──▶  setRemoteDescription, answer,
 *                                         ◀──  {"type":"webrtc_answer","sdp":"v=0…"}
 *   (ICE is not trickled: both descriptions carry their host candidates)
 *
 * The channel is negotiated out of band on both ends — `negotiated: true,
 * id: 0, ordered: false, maxRetransmits: 0` — because werift drops the
 * unordered flag from an in-band (DCEP) open when maxRetransmits is set.
 * ICE uses host candidates only (no STUN server): the address the page
 * reached the server at is added so loopback and LAN both work.
 */
import { Buffer } from "node:buffer";
import { type RTCDataChannel, RTCPeerConnection } from "werift";
import type { PacketChannel } from "./channel_sender.ts";
import { SctpAudioWriter, type WeriftSctp } from "./sctp_tuning.ts";

/**
 * The server's SCTP packet size (werift's default, 1191 bytes, as Chrome's):
 * set explicitly, since DATACHANNEL_MAX_DATAGRAM_BYTES is derived from it.
 */
export const DATACHANNEL_SCTP_MTU = 1191;
/**
 * RTP datagrams for a DataChannel session are built to fit one SCTP DATA
 * chunk: the MTU less the SCTP common header (12) and the DATA chunk header
 * (16), down to a multiple of 4 (werift's fragmentation). A larger datagram
 * is two chunks — two SCTP packets, two DTLS records, two UDP sends, each in
 * JavaScript on the server's main thread — for a few more bytes.
 */
export const DATACHANNEL_MAX_DATAGRAM_BYTES = Math.floor((DATACHANNEL_SCTP_MTU - 12 - 16) / 4) * 4;

/** The DataChannel id both ends agree on (negotiated out of band). */
export const RTP_CHANNEL_ID = 0;
export const RTP_CHANNEL_LABEL = "rtp";

export interface PeerEvents {
  /** The DataChannel is open: the session can stream into it. */
  onOpen(channel: PacketChannel): void;
  /** ICE or the channel failed or closed. */
  onClose(reason: string): void;
}

export class WebRtcPeer {
  private readonly pc: RTCPeerConnection;
  private closed = false;

  constructor(hostAddress: string, private readonly events: PeerEvents) {
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceAdditionalHostAddresses: hostAddress ? [hostAddress] : undefined,
      iceUseIpv6: false,
      sctp: { mtu: DATACHANNEL_SCTP_MTU },
    });
    const dc = this.pc.createDataChannel(RTP_CHANNEL_LABEL, {
      negotiated: true,
      id: RTP_CHANNEL_ID,
      ordered: false,
      maxRetransmits: 0,
    });
    dc.stateChanged.subscribe((state) => {
      if (state === "open") this.events.onOpen(this.audioChannel(dc));
      else if (state === "closed") this.fail("data channel closed");
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === "failed" || state === "closed") this.fail(`peer connection ${state}`);
    });
  }

  /**
   * The RTP channel as the sender sees it: messages go straight into the SCTP
   * association (./sctp_tuning.ts), one DATA chunk each, never resent.
   */
  private audioChannel(dc: RTCDataChannel): PacketChannel {
    const sctp = (this.pc.sctpTransport as unknown as { sctp?: WeriftSctp } | undefined)?.sctp;
    if (!sctp) {
      // Not reached with werift 0.25.2 (the association exists once the channel is open).
      return {
        send: (bytes) => dc.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
        get bufferedAmount() {
          return dc.bufferedAmount;
        },
        get open() {
          return dc.readyState === "open";
        },
      };
    }
    const writer = new SctpAudioWriter(sctp, RTP_CHANNEL_ID, 0);
    return {
      send: (bytes) => writer.send(bytes),
      get bufferedAmount() {
        return writer.bufferedAmount;
      },
      get open() {
        return dc.readyState === "open";
      },
    };
  }

  /** Answers the page's offer; the answer carries the server's host candidates. */
  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return this.pc.localDescription?.sdp ?? answer.sdp;
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.close();
    this.events.onClose(reason);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close().catch(() => {});
  }
}
