/**
 * CPU cost of the codec stages, as process CPU time per second of audio
 * (node:process cpuUsage, user + system), so it holds on a busy machine:
 *  - 32 mono Opus encoders at 5 ms frames, 48 kHz, the default bitrate, plus
 *    the multistream assembly; bytes per multistream packet (mean and max);
 *  - resampling 32 channels from 48000 to 44100, 32000 and 24000.
 * Runnable alone: `deno run --allow-all bench/codec_bench.ts [seconds]`.
 */

import process from "node:process";
import {
  DEFAULT_OPUS_BITRATE,
  OPUS_MAX_FRAME_BYTES,
  OpusMonoEncoder,
} from "../src/codec/opus_encoder.ts";
import { writeMultistream } from "../src/codec/opus_multistream.ts";
import { Resampler } from "../src/audio/resampler.ts";

const CHANNELS = 32;
const RATE = 48000;
const FRAME_MS = 5;

export interface CodecBench {
  audioSeconds: number;
  opus: {
    channels: number;
    frameMs: number;
    bitratePerChannel: number;
    cpuPercentOfOneCore: number;
    meanPacketBytes: number;
    maxPacketBytes: number;
  };
  resample: { outputRate: number; cpuPercentOfOneCore: number; latencyMs: number }[];
}

/** A music-like test load: per channel a few partials plus noise, at about −18 dBFS. */
function fillSignal(pcm: Int32Array, start: number, frames: number, seed: { s: number }): void {
  for (let i = 0; i < frames; i++) {
    const t = (start + i) / RATE;
    for (let c = 0; c < CHANNELS; c++) {
      seed.s = (seed.s * 1664525 + 1013904223) >>> 0;
      const noise = (seed.s / 2 ** 32 - 0.5) * 0.02;
      const f = 110 * (c + 1);
      const v = 0.08 * Math.sin(2 * Math.PI * f * t) + 0.04 * Math.sin(2 * Math.PI * 2.01 * f * t) +
        noise;
      pcm[i * CHANNELS + c] = Math.round(v * 2 ** 31);
    }
  }
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

export function benchCodec(audioSeconds = 10): CodecBench {
  const frameSize = RATE * FRAME_MS / 1000;
  const periods = Math.round(audioSeconds * 1000 / FRAME_MS);
  // Pre-generate one second of signal so generation is not measured.
  const secondFrames = RATE;
  const signal = new Int32Array(secondFrames * CHANNELS);
  fillSignal(signal, 0, secondFrames, { s: 1 });
  const periodsPerSecond = secondFrames / frameSize;

  const encoders = Array.from(
    { length: CHANNELS },
    () => new OpusMonoEncoder({ sampleRate: RATE, frameMs: FRAME_MS }),
  );
  const slots = Array.from({ length: CHANNELS }, () => new Uint8Array(OPUS_MAX_FRAME_BYTES));
  const lengths = new Int32Array(CHANNELS);
  const packet = new Uint8Array(CHANNELS * (OPUS_MAX_FRAME_BYTES + 2));
  let bytes = 0, maxBytes = 0;
  const opusStart = process.cpuUsage();
  for (let p = 0; p < periods; p++) {
    const offset = (p % periodsPerSecond) * frameSize * CHANNELS;
    for (let c = 0; c < CHANNELS; c++) {
      lengths[c] = encoders[c].encode(signal, offset + c, CHANNELS, slots[c]);
    }
    const n = writeMultistream(packet, 0, slots, lengths);
    bytes += n;
    if (n > maxBytes) maxBytes = n;
  }
  const opusCpu = cpuSecondsSince(opusStart);
  encoders.forEach((e) => e.close());

  const resample: CodecBench["resample"] = [];
  for (const outputRate of [44100, 32000, 24000]) {
    const rs = new Resampler({
      inputRate: RATE,
      outputRate,
      channels: CHANNELS,
      maxInputFrames: frameSize,
    });
    const out = new Int32Array(rs.maxOutputFrames * CHANNELS);
    const period = new Int32Array(frameSize * CHANNELS);
    const start = process.cpuUsage();
    for (let p = 0; p < periods; p++) {
      const offset = (p % periodsPerSecond) * frameSize * CHANNELS;
      period.set(signal.subarray(offset, offset + frameSize * CHANNELS));
      rs.process(period, frameSize, out);
    }
    const cpu = cpuSecondsSince(start);
    resample.push({
      outputRate,
      cpuPercentOfOneCore: cpu / audioSeconds * 100,
      latencyMs: rs.latencyMs(),
    });
    rs.close();
  }

  return {
    audioSeconds,
    opus: {
      channels: CHANNELS,
      frameMs: FRAME_MS,
      bitratePerChannel: DEFAULT_OPUS_BITRATE,
      cpuPercentOfOneCore: opusCpu / audioSeconds * 100,
      meanPacketBytes: bytes / periods,
      maxPacketBytes: maxBytes,
    },
    resample,
  };
}

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? 10);
  const r = benchCodec(seconds);
  console.log(
    `opus: ${r.opus.channels} ch × ${r.opus.frameMs} ms @ ${
      r.opus.bitratePerChannel / 1000
    } kbit/s: ` +
      `${r.opus.cpuPercentOfOneCore.toFixed(1)} % of one core; multistream packet ${
        r.opus.meanPacketBytes.toFixed(0)
      } bytes mean, ${r.opus.maxPacketBytes} max`,
  );
  for (const s of r.resample) {
    console.log(
      `resample 32 ch 48000 → ${s.outputRate}: ${
        s.cpuPercentOfOneCore.toFixed(1)
      } % of one core, ` +
        `latency ${s.latencyMs.toFixed(2)} ms`,
    );
  }
  console.log(JSON.stringify(r));
}
