/**
 * What the engine needs from an encoded stream layout (PCM, Opus): rendered
 * once per period, shared by every client with the same layout. A client's
 * stream only adds its RTP header (src/session/client_stream.ts).
 */
import type { Period } from "../audio/source.ts";

export interface StreamLayout {
  readonly key: string;
  readonly payloadType: number;
  /** Rate of the periods this layout consumes (the rate stream it hangs off). */
  readonly inputRate: number;
  /** RTP timestamp clock (the stream rate for PCM, 48000 for Opus). */
  readonly rtpClockRate: number;
  /** Clients using this layout. */
  refs: number;

  // Valid after render(); packetCount is 0 when the period completed no packet
  // (an Opus frame longer than the period still filling).
  packetCount: number;
  /** Payload of each packet (the first `packetCount` entries). */
  packetPayloads: Uint8Array[];
  /** Each packet's first sample, in RTP clock units after `blockRtpTime`. */
  packetRtpOffsets: number[];
  /** RTP clock position of the rendered block's first sample (before a client's random base). */
  blockRtpTime: number;
  /** Capture time (epoch ms) of the rendered block's first sample. */
  blockCaptureMs: number;

  /** Encodes `period` (number `seq` of the engine) unless already done for this `seq`. */
  render(period: Period, seq: number): void;
  close?(): void;
}
