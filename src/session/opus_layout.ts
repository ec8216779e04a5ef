/**
 * Opus layouts (docs/protocol.md §5): every mapped channel in use is encoded
 * ONCE per tier (bitrate and bandwidth) by its own mono encoder (OpusBank);
 * each distinct channel list then assembles its multistream packet from the
 * shared frames (OpusLayout). Encoders always take 48 kHz (src/codec/opus_plan.ts).
 *
 * Frames are CBR, so a multistream packet's size is known in advance: if one
 * frame of all the client's channels does not fit `max_datagram_bytes`, the
 * channels are split into consecutive groups, one multistream packet each,
 * all with the same RTP timestamp (`channel_groups` in the ack).
 */
import type { Period } from "../audio/source.ts";
import { Reblocker } from "../audio/reblocker.ts";
import { type OpusEncoderOptions, OpusMonoEncoder } from "../codec/opus_encoder.ts";
import { multistreamByteLength, writeMultistream } from "../codec/opus_multistream.ts";
import { OPUS_ENCODE_RATE } from "../codec/opus_plan.ts";
import { PT_OPUS } from "../rtp/packet.ts";
import { MAX_HEADER_BYTES } from "../rtp/packetizer.ts";
import type { StreamLayout } from "./layout.ts";

export interface OpusTier {
  bitrate: number;
  maxBandwidth: number;
  /** Opus frame duration (2.5/5/10/20 ms): the packet time, rounded up for 1 ms. */
  frameMs: number;
}

/** At most this many frames complete in one period (44.1 kHz resampled to 48 kHz jitters by a frame). */
const MAX_FRAMES_PER_RENDER = 4;
const MAX_SELF_DELIMITED_OVERHEAD = 2;

/** What a layout needs of one channel's encoder (libopus's OpusMonoEncoder, or a test's fake). */
export interface MonoEncoder {
  /** Encodes one frame of channel `offset` of an interleaved s32 block into `out`; returns bytes. */
  encode(src: Int32Array, offset: number, stride: number, out: Uint8Array): number;
  close(): void;
}

/** Makes one channel's encoder; libopus by default, a fake in unit tests. */
export type OpusEncoderFactory = (options: OpusEncoderOptions) => MonoEncoder;

export const libopusEncoder: OpusEncoderFactory = (options) => new OpusMonoEncoder(options);

interface ChannelCoder {
  encoder: MonoEncoder;
  refs: number;
  /** Encoded packet per completed-frame slot. */
  packets: Uint8Array[];
}

/** One tier's per-channel encoders and the frames they completed in the current period. */
export class OpusBank {
  readonly frameSize: number;
  readonly coders = new Map<number, ChannelCoder>();
  refs = 0;
  /** Frames completed by the last render, their start on the 48 kHz timeline and capture times. */
  completed = 0;
  readonly frameStart = new Float64Array(MAX_FRAMES_PER_RENDER);
  readonly frameCapture = new Float64Array(MAX_FRAMES_PER_RENDER);
  /** Bytes of each channel's packet in each slot (CBR: constant). */
  readonly lengths: Int32Array[] = [];
  private renderedSeq = -1;
  /** Cuts the 48 kHz stream into whole Opus frames (a resampled period is not one). */
  private readonly frames: Reblocker;

  constructor(
    readonly key: string,
    readonly tier: OpusTier,
    private readonly createEncoder: OpusEncoderFactory = libopusEncoder,
  ) {
    this.frameSize = (OPUS_ENCODE_RATE * tier.frameMs) / 1000;
    this.frames = new Reblocker(
      () => this.frameSize,
      (f) => this.encodeFrom(f.data, f.channels, f.frameIndex, f.captureTimeMs),
    );
    for (let i = 0; i < MAX_FRAMES_PER_RENDER; i++) this.lengths.push(new Int32Array(33));
  }

  /** Bytes of one CBR frame of one channel. */
  get frameBytes(): number {
    return Math.round((this.tier.bitrate * this.tier.frameMs) / 8000);
  }

  acquire(id: number): ChannelCoder {
    let c = this.coders.get(id);
    if (!c) {
      c = {
        encoder: this.createEncoder({
          sampleRate: OPUS_ENCODE_RATE,
          frameMs: this.tier.frameMs,
          bitrate: this.tier.bitrate,
          maxBandwidth: this.tier.maxBandwidth,
          rateControl: "cbr",
        }),
        refs: 0,
        packets: Array.from({ length: MAX_FRAMES_PER_RENDER }, () => new Uint8Array(1275)),
      };
      this.coders.set(id, c);
    }
    c.refs++;
    return c;
  }

  release(id: number): void {
    const c = this.coders.get(id);
    if (!c || --c.refs > 0) return;
    c.encoder.close();
    this.coders.delete(id);
  }

  render(p: Period, seq: number): void {
    if (this.renderedSeq === seq) return;
    this.renderedSeq = seq;
    this.completed = 0;
    this.frames.push(p);
  }

  private encodeFrom(data: Int32Array, channels: number, start: number, capture: number): void {
    const slot = this.completed;
    if (slot >= MAX_FRAMES_PER_RENDER) return;
    this.frameStart[slot] = start;
    this.frameCapture[slot] = capture;
    const lengths = this.lengths[slot];
    for (const [id, c] of this.coders) {
      lengths[id] = id <= channels ? c.encoder.encode(data, id - 1, channels, c.packets[slot]) : 0;
    }
    this.completed++;
  }

  close(): void {
    for (const c of this.coders.values()) c.encoder.close();
    this.coders.clear();
  }
}

export function opusTierKey(t: OpusTier): string {
  return `${t.bitrate}|${t.maxBandwidth}|${t.frameMs}`;
}

/** Splits `n` channels into the fewest balanced consecutive groups that fit one datagram each. */
export function opusChannelGroups(
  n: number,
  frameBytes: number,
  maxDatagramBytes: number,
): number[] {
  const perStream = frameBytes + MAX_SELF_DELIMITED_OVERHEAD;
  const fit = Math.floor((maxDatagramBytes - MAX_HEADER_BYTES) / perStream);
  if (fit < 1) {
    throw new RangeError(
      `an Opus frame of ${frameBytes} bytes needs a datagram of ${
        perStream + MAX_HEADER_BYTES
      } bytes, ` +
        `max_datagram_bytes is ${maxDatagramBytes}`,
    );
  }
  const groups = Math.ceil(n / fit);
  const base = Math.floor(n / groups);
  const extra = n % groups;
  return Array.from({ length: groups }, (_, i) => base + (i < extra ? 1 : 0));
}

export class OpusLayout implements StreamLayout {
  readonly payloadType = PT_OPUS;
  readonly inputRate = OPUS_ENCODE_RATE;
  readonly rtpClockRate = OPUS_ENCODE_RATE;
  refs = 0;
  packetCount = 0;
  packetPayloads: Uint8Array[] = [];
  packetRtpOffsets: number[] = [];
  blockRtpTime = 0;
  blockCaptureMs = 0;
  /** Channel counts of the groups, in the client's channel order. */
  readonly groups: number[];
  private readonly coders: ChannelCoder[];
  private readonly payload: Uint8Array;
  private readonly packetsBySlot: Uint8Array[][] = [];
  private readonly lengthsScratch: Int32Array;
  private renderedSeq = -1;

  constructor(
    readonly key: string,
    private readonly bank: OpusBank,
    readonly channels: readonly number[],
    maxDatagramBytes: number,
  ) {
    this.groups = opusChannelGroups(channels.length, bank.frameBytes, maxDatagramBytes);
    this.coders = channels.map((id) => bank.acquire(id));
    bank.refs++;
    const maxPackets = MAX_FRAMES_PER_RENDER * this.groups.length;
    this.payload = new Uint8Array(maxPackets * maxDatagramBytes);
    for (let s = 0; s < MAX_FRAMES_PER_RENDER; s++) {
      this.packetsBySlot.push(this.coders.map((c) => c.packets[s]));
    }
    this.lengthsScratch = new Int32Array(channels.length);
    this.packetPayloads = new Array(maxPackets);
    this.packetRtpOffsets = new Array(maxPackets).fill(0);
    this.maxDatagramBytes = maxDatagramBytes;
  }

  private readonly maxDatagramBytes: number;

  render(p: Period, seq: number): void {
    if (this.renderedSeq === seq) return;
    this.renderedSeq = seq;
    const bank = this.bank;
    bank.render(p, seq);
    this.packetCount = 0;
    if (bank.completed === 0) return;
    this.blockRtpTime = bank.frameStart[0];
    this.blockCaptureMs = bank.frameCapture[0];
    let k = 0;
    for (let s = 0; s < bank.completed; s++) {
      const lengths = bank.lengths[s];
      for (let i = 0; i < this.channels.length; i++) {
        this.lengthsScratch[i] = lengths[this.channels[i]];
      }
      let first = 0;
      for (const count of this.groups) {
        const at = k * this.maxDatagramBytes;
        const n = multistreamByteLength(this.packetsBySlot[s], this.lengthsScratch, first, count);
        writeMultistream(
          this.payload,
          at,
          this.packetsBySlot[s],
          this.lengthsScratch,
          first,
          count,
        );
        const view = this.packetPayloads[k];
        this.packetPayloads[k] = view && view.byteOffset === at && view.length === n
          ? view
          : this.payload.subarray(at, at + n);
        this.packetRtpOffsets[k] = bank.frameStart[s] - this.blockRtpTime;
        first += count;
        k++;
      }
    }
    this.packetCount = k;
  }

  /** The client's channels per packet, for the ack. */
  channelGroups(): number[][] {
    let first = 0;
    return this.groups.map((n) => this.channels.slice(first, first += n));
  }

  close(): void {
    for (const id of this.channels) this.bank.release(id);
    this.bank.refs--;
  }
}

/** Creates Opus layouts, sharing one bank per tier among them. */
export class OpusLayouts {
  private readonly banks = new Map<string, OpusBank>();

  constructor(private readonly createEncoder: OpusEncoderFactory = libopusEncoder) {}

  create(key: string, tier: OpusTier, channels: readonly number[], maxDatagramBytes: number) {
    const bk = opusTierKey(tier);
    let bank = this.banks.get(bk);
    if (!bank) {
      bank = new OpusBank(bk, tier, this.createEncoder);
      this.banks.set(bk, bank);
    }
    const layout = new OpusLayout(key, bank, channels, maxDatagramBytes);
    const close = layout.close.bind(layout);
    layout.close = () => {
      close();
      if (bank.refs === 0) {
        bank.close();
        this.banks.delete(bk);
      }
    };
    return layout;
  }
}
