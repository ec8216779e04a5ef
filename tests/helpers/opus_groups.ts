/**
 * Fixtures for Opus channel groups on an unordered transport (the page's
 * DataChannel: no order, no retransmission): real Opus packets, made the way
 * the server makes them (one libopus mono encoder per channel, CELT, 5 ms,
 * CBR; each group one multistream packet, docs/protocol.md §12), delivered
 * reordered, duplicated, lost or late, and what a receive path must make of
 * them: every packet time handed on once, in order, each missing group
 * concealed by its own decoder (never silence) and counted, a late group
 * packet counted and dropped.
 *
 *   seq  s      s+1    s+2  | s+3    s+4    s+5  | …      (TIMES packet times)
 *   ts   T      T      T    | T+240  T+240  T+240|
 *        [1,2]  [3,4]  [5]  | [1,2]  [3,4]  [5]  |        (GROUPS: channel ids)
 *
 * The expected audio comes from reference decoders of the same kind (the
 * same `OpusDecoderFactory`) fed in time order with each group's packet or,
 * where the scenario says it is missing, a concealment: bit-exact.
 */
import assert from "node:assert/strict";
import { OpusMonoEncoder } from "../../src/codec/opus_encoder.ts";
import { writeMultistream } from "../../src/codec/opus_multistream.ts";
import { NO_EXTENSION, PT_OPUS, writeRtpHeader } from "../../src/rtp/packet.ts";
import {
  OPUS_FULL_SCALE,
  type OpusCounters,
  type OpusDecoderFactory,
} from "../../src/client/opus.ts";
import type { DecodedPacket, PacketSink } from "../../src/client/playout.ts";
import { RtpReceiver, type StreamParams } from "../../src/client/receiver.ts";

export const SSRC = 0x5eed_0001;
export const GROUPS = [[1, 2], [3, 4], [5]];
export const CHANNELS = GROUPS.flat();
export const TIMES = 8;
const RATE = 48000;
const FRAME_MS = 5;
export const FRAMES = (RATE * FRAME_MS) / 1000;
/** Sequence numbers wrap during the run. */
const SEQ0 = 65530;
const TS0 = 0x0001_0000;
/** Server capture time of the first frame (the extension on the first packet). */
export const CAPTURE0_MS = 1_800_000_000_000;
const AMPLITUDE = 0.3;

export const STREAM: StreamParams = {
  ssrc: SSRC,
  payloadType: PT_OPUS,
  encoding: "opus",
  clockRate: RATE,
  sampleRate: RATE,
  channels: CHANNELS,
  channelGroups: GROUPS,
};

/** One group packet: its packet time, group, RTP datagram and Opus payload. */
export interface GroupPacket {
  time: number;
  group: number;
  rtp: Uint8Array;
  payload: Uint8Array;
}

/** Sine of (300 × channel id) Hz per channel: a lost group's channels have something to conceal. */
function signal(k: number): Int32Array {
  const n = CHANNELS.length;
  const pcm = new Int32Array(FRAMES * n);
  for (let f = 0; f < FRAMES; f++) {
    for (const [c, id] of CHANNELS.entries()) {
      const t = (k * FRAMES + f) / RATE;
      pcm[f * n + c] = Math.round(AMPLITUDE * Math.sin(2 * Math.PI * 300 * id * t) * 2 ** 31);
    }
  }
  return pcm;
}

/** packets[time][group], encoded once per module (libopus over FFI). */
export function groupPackets(): GroupPacket[][] {
  const n = CHANNELS.length;
  const encoders = CHANNELS.map(() => new OpusMonoEncoder({ sampleRate: RATE, frameMs: FRAME_MS }));
  try {
    const frames = CHANNELS.map(() => new Uint8Array(1275));
    const lengths = new Int32Array(n);
    const out: GroupPacket[][] = [];
    let seq = SEQ0;
    for (let k = 0; k < TIMES; k++) {
      const pcm = signal(k);
      encoders.forEach((e, c) => (lengths[c] = e.encode(pcm, c, n, frames[c])));
      const time: GroupPacket[] = [];
      let first = 0;
      for (const [g, ids] of GROUPS.entries()) {
        const buf = new Uint8Array(1500);
        const marker = k === 0 && g === 0;
        const h = writeRtpHeader(
          buf,
          marker,
          PT_OPUS,
          seq++ & 0xffff,
          TS0 + k * FRAMES,
          SSRC,
          marker ? CAPTURE0_MS : NO_EXTENSION,
          marker ? 1 : 0,
        );
        const len = writeMultistream(buf, h, frames, lengths, first, ids.length);
        first += ids.length;
        time.push({
          time: k,
          group: g,
          rtp: buf.slice(0, h + len),
          payload: buf.slice(h, h + len),
        });
      }
      out.push(time);
    }
    return out;
  } finally {
    for (const e of encoders) e.close();
  }
}

/** A delivery order and what must come of it. */
export interface Scenario {
  name: string;
  /** [time, group] in arrival order; a pair may repeat (a duplicate) or be absent (lost). */
  order: [number, number][];
  /** Groups whose packet never reached the assembler in time: concealed. */
  concealed: [number, number][];
  late: number;
  /** Copies dropped as duplicates (by sequence number). */
  duplicates: number;
}

function inOrder(skip: (k: number, g: number) => boolean = () => false): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < TIMES; k++) {
    for (let g = 0; g < GROUPS.length; g++) if (!skip(k, g)) out.push([k, g]);
  }
  return out;
}

/** Moves [time, group] to just after `after` in an order. */
function moveAfter(
  order: [number, number][],
  what: [number, number],
  after: [number, number],
): [number, number][] {
  const same = (a: [number, number], b: [number, number]) => a[0] === b[0] && a[1] === b[1];
  const out = order.filter((p) => !same(p, what));
  out.splice(out.findIndex((p) => same(p, after)) + 1, 0, what);
  return out;
}

export const SCENARIOS: Scenario[] = [
  {
    name: "reordered group packets of one packet time assemble as if in order",
    // time 2: groups 2, 1, 0; time 5: groups 1, 0, 2
    order: moveAfter(
      moveAfter(moveAfter(inOrder(), [2, 0], [2, 2]), [2, 1], [2, 2]),
      [5, 0],
      [5, 1],
    ),
    concealed: [],
    late: 0,
    duplicates: 0,
  },
  {
    name: "duplicated group packets are counted and dropped, the audio is unchanged",
    // time 2 group 1 twice in a row; time 4 group 0 again after time 5 began
    order: (() => {
      const o = inOrder();
      o.splice(o.findIndex(([k, g]) => k === 2 && g === 1) + 1, 0, [2, 1]);
      o.splice(o.findIndex(([k, g]) => k === 5 && g === 0) + 1, 0, [4, 0]);
      return o;
    })(),
    concealed: [],
    late: 0,
    duplicates: 2,
  },
  {
    name: "a lost group packet is concealed by its decoder and counted, not silenced",
    // time 3 loses group 1, time 6 loses group 0 (the group the timing is learnt from)
    order: inOrder((k, g) => (k === 3 && g === 1) || (k === 6 && g === 0)),
    concealed: [[3, 1], [6, 0]],
    late: 0,
    duplicates: 0,
  },
  {
    name:
      "a late group packet is counted and dropped: it neither ends the next packet time early nor reopens its own",
    // time 3 group 2 arrives after time 4 groups 0 and 1; time 6 group 0 after time 7 group 0
    order: moveAfter(moveAfter(inOrder(), [3, 2], [4, 1]), [6, 0], [7, 0]),
    concealed: [[3, 2], [6, 0]],
    late: 2,
    duplicates: 0,
  },
];

/** The audio a packet time must be handed on with: interleaved, full scale OPUS_FULL_SCALE. */
export function expectedAudio(
  factory: OpusDecoderFactory,
  packets: GroupPacket[][],
  concealed: [number, number][],
): Int32Array[] {
  const n = CHANNELS.length;
  const decoders = GROUPS.map((ids) => factory(ids.length, RATE));
  try {
    const scratch = new Float32Array(FRAMES * n);
    return packets.map((time, k) => {
      const out = new Int32Array(FRAMES * n);
      let first = 0;
      for (const [g, ids] of GROUPS.entries()) {
        const lost = concealed.some(([kk, gg]) => kk === k && gg === g);
        const got = decoders[g].decode(lost ? null : time[g].payload, scratch, FRAMES);
        assert.equal(got, FRAMES);
        for (let f = 0; f < FRAMES; f++) {
          for (let c = 0; c < ids.length; c++) {
            out[f * n + first + c] = Math.round(scratch[f * ids.length + c] * OPUS_FULL_SCALE);
          }
        }
        first += ids.length;
      }
      return out;
    });
  } finally {
    for (const d of decoders) d.close();
  }
}

/** What a receive path handed its sink, copied. */
export interface Handed {
  index: number;
  timestamp: number;
  frames: number;
  samples: Int32Array;
}

/** A sink that keeps copies of what it is given. */
export class KeepingSink implements PacketSink {
  concealedPackets = 0;
  droppedPackets = 0;
  readonly handed: Handed[] = [];
  push(p: DecodedPacket): void {
    this.handed.push({
      index: p.sequence,
      timestamp: p.timestamp,
      frames: p.frames,
      samples: p.samples.slice(0, p.frames * p.channels),
    });
  }
  reset(): void {}
}

/** A receive path under test, fed datagrams and asked what came of them. */
export interface ReceivePath {
  deliver(rtp: Uint8Array, arrivalMs: number): void;
  /** The stream ended: anything still assembling is handed on. */
  finish(): void;
  readonly handed: Handed[];
  readonly duplicates: number;
  readonly newestCaptureEndMs: number;
  /** Undefined where the path does not count it. */
  readonly opus: Partial<OpusCounters>;
  readonly decodeErrors: number;
}

/** The shared receiver (src/client/receiver.ts) with the given decoders. */
export function sharedPath(factory: OpusDecoderFactory): ReceivePath & { receiver: RtpReceiver } {
  const sink = new KeepingSink();
  const receiver = new RtpReceiver({ sink, offsetMs: () => 0, nowMs: 0, opusDecoder: factory });
  receiver.setStream(STREAM);
  return {
    receiver,
    deliver: (rtp, at) => receiver.receive(rtp, rtp.length, at),
    finish: () => receiver.clearStream(),
    handed: sink.handed,
    get duplicates() {
      return receiver.seq.duplicates;
    },
    get newestCaptureEndMs() {
      return receiver.newestCaptureEndMs;
    },
    opus: receiver.opus,
    get decodeErrors() {
      return receiver.decodeErrors + receiver.malformed;
    },
  };
}

function rms(samples: Int32Array, channel: number): number {
  const n = CHANNELS.length;
  let sum = 0;
  for (let f = 0; f < FRAMES; f++) sum += (samples[f * n + channel] / OPUS_FULL_SCALE) ** 2;
  return Math.sqrt(sum / FRAMES);
}

/**
 * Delivers the scenario to `path` and checks it: every packet time once, in
 * order, with the expected audio (bit-exact), concealed groups audible, the
 * counters.
 */
export function checkScenario(
  sc: Scenario,
  packets: GroupPacket[][],
  reference: OpusDecoderFactory,
  path: ReceivePath,
): void {
  for (const [i, [k, g]] of sc.order.entries()) {
    path.deliver(packets[k][g].rtp, k * FRAME_MS + i * 0.01);
  }
  path.finish();
  const handed = path.handed;
  const first = handed[0]?.index ?? 0;
  assert.deepEqual(
    handed.map((h) => [h.index - first, h.timestamp - TS0, h.frames]),
    packets.map((_, k) => [k, k * FRAMES, FRAMES]),
    "every packet time handed on once, in order",
  );
  const expected = expectedAudio(reference, packets, sc.concealed);
  const n = CHANNELS.length;
  const wrong: string[] = [];
  for (const [k, h] of handed.entries()) {
    for (let c = 0; c < n; c++) {
      let diff = 0;
      for (let f = 0; f < FRAMES; f++) {
        diff = Math.max(diff, Math.abs(h.samples[f * n + c] - expected[k][f * n + c]));
      }
      if (diff > 0) {
        wrong.push(
          `time ${k} channel ${CHANNELS[c]}: off by up to ${
            (diff / OPUS_FULL_SCALE).toFixed(4)
          }, ` +
            `rms ${rms(h.samples, c).toFixed(4)} (expected ${rms(expected[k], c).toFixed(4)})`,
        );
      }
    }
  }
  assert.deepEqual(wrong, [], "the audio of every packet time");
  // A concealed group is the decoder's concealment of a sine: audible, not silence.
  for (const [k, g] of sc.concealed) {
    const start = GROUPS.slice(0, g).flat().length;
    for (let c = start; c < start + GROUPS[g].length; c++) {
      assert.ok(rms(handed[k].samples, c) > AMPLITUDE / 10, `time ${k} channel ${c + 1} is silent`);
    }
  }
  assert.deepEqual(
    {
      concealedGroups: path.opus.concealedGroups,
      lateGroups: path.opus.lateGroups,
      duplicates: path.duplicates + (path.opus.duplicateGroups ?? 0),
      decodeErrors: path.decodeErrors,
    },
    {
      concealedGroups: sc.concealed.length,
      lateGroups: sc.late,
      duplicates: sc.duplicates,
      decodeErrors: 0,
    },
  );
  assert.equal(path.newestCaptureEndMs, CAPTURE0_MS + TIMES * FRAME_MS);
}
