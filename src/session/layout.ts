/**
 * What the engine needs from an encoded stream layout (PCM now, Opus later):
 * rendered once per period, shared by every client with the same layout.
 */
import type { Period } from "../audio/source.ts";

export interface StreamLayout {
  readonly key: string;
  readonly payloadType: number;
  /** Rate of the periods this layout is rendered from. */
  readonly sampleRate: number;
  /** RTP timestamp clock (the stream rate for PCM, 48000 for Opus). */
  readonly rtpClockRate: number;
  /** Clients using this layout. */
  refs: number;
  /** Valid after render(): payload of each packet of the period. */
  packetCount: number;
  packetPayloads: Uint8Array[];
  /** First frame of each packet within the period. */
  packetFrameOffsets: number[];
  render(period: Period): void;
  close?(): void;
}
