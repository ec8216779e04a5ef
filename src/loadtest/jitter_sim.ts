/**
 * The shared jitter buffer (src/client/jitter_buffer.ts) under a Wi-Fi
 * profile, without a network or a clock: a listener's 5 ms packets go through
 * the seeded model (src/net/wifi_impairment.ts) and are read every render
 * quantum (128 frames, as the page's AudioWorklet does) on simulated time.
 * Deterministic: the tuning's unit tests (src/client/jitter_buffer_wifi_test.ts)
 * and its before/after figures (docs/loadtest/wifi/README.md) come from here.
 *
 *   deno run -A src/loadtest/jitter_sim.ts [--profile stage-ap] [--seed 1] [--minutes 10]
 *
 * Per packet the truth is known: the model dropped it, it was sent inside a
 * spike, or the jitter buffer took it for late (it came after its frames were
 * played). Latency is capture → playout of the media being read (the
 * server's own capture → send time is not in it: packets leave at capture end).
 */
import { JitterBuffer, type JitterBufferOptions } from "../client/jitter_buffer.ts";
import type { DecodedPacket } from "../client/playout.ts";
import { DROP } from "../net/impairment.ts";
import { WifiImpairment } from "../net/wifi_impairment.ts";
import { WIFI_PROFILES, type WifiProfile, type WifiProfileName } from "../net/wifi_profile.ts";
import { quantile, recovery, type SpikeRecovery } from "./wifi_figures.ts";
import { emptyOpusCounters, OpusGroupAssembler } from "../client/opus.ts";

const RATE = 48000;
const PACKET_MS = 5;
const FRAMES = 240;
const T0 = 1_700_000_000_000;

export interface SimOptions {
  profile: WifiProfile;
  seed: number;
  seconds: number;
  /** Packets sent before this (s) are not counted late (the estimate is still learning). */
  warmupS?: number;
  /** Frames per read (default 128: the AudioWorklet's quantum). */
  readFrames?: number;
  jitterBuffer?: Partial<JitterBufferOptions>;
  /**
   * The packets are Opus (default false: PCM): they pass the page's Opus assembler
   * (src/client/opus.ts, one group, a stand-in decoder) on their way to the jitter buffer, as
   * every listener's Opus stream does; a packet it drops for late counts late.
   */
  opus?: boolean;
  /** The assembler knows when the jitter buffer reads (default true; false: its own wait only). */
  deadline?: boolean;
  /** Packets the assembler drops for late still count in the jitter buffer's delay (default true). */
  noteLate?: boolean;
}

export interface SimResult {
  packets: number;
  /** Dropped by the model, outside spikes and inside. */
  lost: number;
  lostInSpike: number;
  /** Taken for late by the jitter buffer (their slots were concealed), outside spikes and inside. */
  late: number;
  lateInSpike: number;
  resyncs: number;
  /** Slots the jitter buffer concealed (a packet missing at its play time, lost or late, in part or whole). */
  concealed: number;
  /** Opus packets the assembler dropped for late (came after a newer packet time was decoded). */
  assemblerLate: number;
  latencyP50: number | null;
  latencyP95: number | null;
  spikes: SpikeRecovery[];
  /** The jitter buffer's delay target at the end (ms). */
  delayMs: number;
}

export function simulate(o: SimOptions): SimResult {
  const model = new WifiImpairment(o.profile, o.seed);
  const n = Math.floor((o.seconds * 1000) / PACKET_MS);
  const arrivals: { at: number; seq: number }[] = [];
  const inSpike = new Uint8Array(n);
  let lost = 0, lostInSpike = 0;
  for (let seq = 0; seq < n; seq++) {
    const send = T0 + (seq + 1) * PACKET_MS; // sent when its last frame is captured
    const d = model.decide(send);
    inSpike[seq] = model.lastInSpike ? 1 : 0;
    if (d === DROP) {
      if (inSpike[seq]) lostInSpike++;
      else lost++;
      continue;
    }
    arrivals.push({ at: send + d, seq });
  }
  arrivals.sort((a, b) => a.at - b.at || a.seq - b.seq);
  const jb = new JitterBuffer({
    thresholds: { interpolate: 100, drop: 200 },
    storeSamples: false,
    ...o.jitterBuffer,
  });
  const readFrames = o.readFrames ?? 128;
  const readMs = (readFrames * 1000) / RATE;
  const samples = new Int32Array(FRAMES);
  const p: DecodedPacket = {
    sequence: 0,
    timestamp: 0,
    clockRate: RATE,
    arrivalMs: 0,
    channels: 1,
    frames: FRAMES,
    samples,
    fullScale: 1,
  };
  const latency: number[] = [];
  let late = 0, lateInSpike = 0, newest = -1, k = 0;
  const firstCounted = Math.ceil(((o.warmupS ?? 0) * 1000) / PACKET_MS);
  const end = T0 + n * PACKET_MS + 500;
  const countLate = (seq: number) => {
    if (seq < firstCounted) return;
    if (inSpike[seq]) lateInSpike++;
    else late++;
  };
  const deliver = (seq: number, at: number) => {
    p.sequence = seq;
    p.timestamp = (seq * FRAMES) >>> 0;
    p.arrivalMs = at;
    const before = jb.latePackets;
    jb.push(p);
    if (jb.latePackets > before) countLate(seq);
    else if (seq > newest) newest = seq;
  };
  const opus = emptyOpusCounters();
  const assembler = o.opus
    ? new OpusGroupAssembler(
      () => ({ decode: (payload, _out, lost) => payload === null ? lost : FRAMES, close() {} }),
      [1],
      RATE,
      (f) => deliver(f.index, f.arrivalMs),
      opus,
    )
    : null;
  if (assembler !== null && o.deadline !== false) {
    assembler.deadline = (ts) => jb.readTimeOf(ts);
  }
  if (assembler !== null && o.noteLate !== false) {
    assembler.onLate = (ts, at) => jb.noteTiming(ts, at);
  }
  const payload = new Uint8Array(40);
  for (let now = T0 + readMs; now < end; now += readMs) {
    while (k < arrivals.length && arrivals[k].at <= now) {
      const { at, seq } = arrivals[k++];
      if (assembler === null) {
        deliver(seq, at);
        continue;
      }
      const dropped = opus.lateGroups;
      assembler.push(seq, (seq * FRAMES) >>> 0, seq === 0, payload, at);
      if (opus.lateGroups > dropped) countLate(seq);
    }
    jb.read(null, readFrames, now);
    if (newest >= 0 && jb.bufferedMs > 0) {
      // The newest packet's last frame (captured at its send time) plays bufferedMs from now.
      const captureEnd = T0 + (newest + 1) * PACKET_MS;
      latency.push(now, now + jb.bufferedMs - captureEnd);
    }
  }
  const lat: number[] = [];
  for (let i = 1; i < latency.length; i += 2) lat.push(latency[i]);
  return {
    packets: n,
    lost,
    lostInSpike,
    late,
    lateInSpike,
    resyncs: jb.resyncs,
    concealed: jb.concealedPackets,
    assemblerLate: opus.lateGroups,
    latencyP50: quantile(lat, 0.5),
    latencyP95: quantile(lat, 0.95),
    spikes: model.spikeLog.map((s) => recovery(latency, s)),
    delayMs: jb.delayMs,
  };
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      profile: { type: "string", default: "stage-ap" },
      seed: { type: "string", default: "1" },
      minutes: { type: "string", default: "10" },
      opus: { type: "boolean", default: false },
      "no-deadline": { type: "boolean", default: false },
      "no-note-late": { type: "boolean", default: false },
    },
  });
  const r = simulate({
    profile: WIFI_PROFILES[v.profile as WifiProfileName],
    seed: Number(v.seed),
    seconds: Number(v.minutes) * 60,
    opus: v.opus,
    deadline: !v["no-deadline"],
    noteLate: !v["no-note-late"],
  });
  const rec = r.spikes.map((s) => s.recoveryMs);
  console.log(JSON.stringify(
    {
      ...r,
      spikes: r.spikes.length,
      recoveredWithin10s: rec.filter((x) => x !== null && x <= 10_000).length,
      slowestRecoveryMs: rec.some((x) => x === null) ? null : Math.max(0, ...(rec as number[])),
    },
    null,
    1,
  ));
}
