/**
 * One distinct PCM stream layout (encoding, rate, channel list): the period is
 * interleaved and encoded ONCE per layout, however many clients listen to it;
 * each client then only writes its own RTP header in front of the shared
 * packet payloads (src/session/client_stream.ts).
 */
import type { Encoding } from "../config/types.ts";
import { bytesPerSample } from "../config/types.ts";
import type { Period } from "../audio/source.ts";
import { encodePcm } from "../codec/pcm.ts";
import { type PacketPlan, planPackets } from "../rtp/packetizer.ts";
import { PT_PCM } from "../rtp/packet.ts";
import type { StreamLayout } from "./layout.ts";

export function pcmLayoutKey(encoding: Encoding, sampleRate: number, channels: readonly number[]) {
  return `pcm|${encoding}|${sampleRate}|${channels.join(",")}`;
}

interface Split {
  plan: PacketPlan;
  views: Uint8Array[];
}

export class PcmLayout implements StreamLayout {
  readonly key: string;
  readonly payloadType = PT_PCM;
  readonly rtpClockRate: number;
  readonly inputRate: number;
  readonly channelIndexes: Int32Array;
  readonly bytesPerFrame: number;
  refs = 0;
  packetCount = 0;
  packetPayloads: Uint8Array[] = [];
  packetRtpOffsets: number[] = [];
  blockRtpTime = 0;
  blockCaptureMs = 0;
  private readonly highestIndex: number;
  private payload: Uint8Array;
  /** Packet splits by period length (a resampled stream alternates, e.g. 220/221 frames). */
  private readonly splits = new Map<number, Split>();
  private renderedSeq = -1;

  constructor(
    readonly encoding: Encoding,
    readonly sampleRate: number,
    /** USB channel ids in send order. */
    readonly channels: readonly number[],
    private readonly maxDatagramBytes: number,
  ) {
    this.key = pcmLayoutKey(encoding, sampleRate, channels);
    this.rtpClockRate = sampleRate;
    this.inputRate = sampleRate;
    this.channelIndexes = Int32Array.from(channels, (id) => id - 1);
    this.highestIndex = Math.max(...this.channelIndexes);
    this.bytesPerFrame = channels.length * bytesPerSample(encoding);
    this.payload = new Uint8Array(0);
  }

  private split(frames: number): Split {
    let s = this.splits.get(frames);
    if (!s) {
      if (this.payload.length < frames * this.bytesPerFrame) {
        this.payload = new Uint8Array(frames * this.bytesPerFrame);
        this.splits.clear();
      }
      const plan = planPackets(frames, this.bytesPerFrame, this.maxDatagramBytes);
      const views = plan.frameOffsets.map((off, i) =>
        this.payload.subarray(
          off * this.bytesPerFrame,
          (off + plan.frameCounts[i]) * this.bytesPerFrame,
        )
      );
      s = { plan, views };
      this.splits.set(frames, s);
    }
    return s;
  }

  /** Encodes `period` unless this layout already holds it. */
  render(period: Period, seq: number): void {
    if (this.renderedSeq === seq) return;
    this.renderedSeq = seq;
    const s = this.split(period.frames);
    this.packetCount = s.plan.packets;
    this.packetPayloads = s.views;
    this.packetRtpOffsets = s.plan.frameOffsets;
    this.blockRtpTime = period.frameIndex;
    this.blockCaptureMs = period.captureTimeMs;
    if (this.highestIndex >= period.channels) {
      // The device has fewer channels than this layout asks for: never invent audio.
      this.payload.fill(0);
      return;
    }
    encodePcm(period, this.channelIndexes, this.encoding, this.payload);
  }
}
