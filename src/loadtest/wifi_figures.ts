/**
 * The Wi-Fi table's figures from what a listener recorded and what its
 * relay did (pure; bench/wifi/main.ts collects, wifi_figures_test.ts checks):
 *
 * - playout latency: capture → playout schedule samples (ms), p50 / p95;
 * - gaps: the jitter buffer's concealed stretches (src/client/gap_log.ts),
 *   each put in one class by when its first missing packet would have left
 *   the relay (the event's time, the fastest transit seen):
 *     spike  inside a spike window [start − SLACK, end + extra + SLACK]
 *            (the spike's packets come `extra` late, and on TCP the ones
 *            after them wait behind them for as long);
 *     loss   near a packet the model dropped (UDP: ± SLACK; TCP: the drop
 *            is a retransmission, so up to `retransmitMs` + SLACK after it);
 *     late   neither: the jitter buffer played the slot before the packet
 *            came (what tuning can remove);
 * - resyncs (read position jumps: audible clicks), and those in spikes;
 * - per spike, the latency's rise and its recovery: the time from the
 *   spike's end until the median latency over RECOVERY_SPAN_MS is back
 *   within RECOVERY_TOLERANCE of the median over the BASELINE_MS before it.
 */

import type { SpikeRecord } from "../net/wifi_impairment.ts";
import { GAP_SILENT, RESYNC } from "../client/gap_log.ts";

export const SLACK_MS = 25;
export const BASELINE_MS = 10_000;
export const RECOVERY_SPAN_MS = 1000;
/** Back down: within max(2 ms, 10 %) of the baseline. */
export const RECOVERY_TOLERANCE_MS = 2;
export const RECOVERY_TOLERANCE_SHARE = 0.1;

export interface ListenerRecord {
  /** Flat (atMs, latencyMs) pairs. */
  latency: number[];
  /** Flat (atMs, packets, kind) triples (gap_log.ts). */
  gaps: number[];
}

export interface RelayRecord {
  spikes: SpikeRecord[];
  /** Send times of the packets (chunks, on TCP) the model dropped. */
  drops: number[];
  /** TCP: a drop is a retransmission this long (ms); UDP: undefined. */
  retransmitMs?: number;
}

export interface GapCounts {
  events: number;
  packets: number;
}

export interface SpikeRecovery {
  startMs: number;
  spanMs: number;
  extraMs: number;
  baselineMs: number | null;
  peakMs: number | null;
  /** ms after the spike's end until the latency was back down (0: it never rose), null: never. */
  recoveryMs: number | null;
}

export interface ListenerFigures {
  seconds: number;
  latency: { samples: number; p50: number | null; p95: number | null };
  gaps: { spike: GapCounts; loss: GapCounts; late: GapCounts; silent: GapCounts };
  resyncs: { total: number; inSpike: number };
  spikes: SpikeRecovery[];
}

export function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const median = (xs: number[]) => quantile(xs, 0.5);

function inSpike(t: number, spikes: SpikeRecord[]): boolean {
  return spikes.some((s) => t >= s.startMs - SLACK_MS && t <= s.endMs + s.extraMs + SLACK_MS);
}

function nearDrop(t: number, relay: RelayRecord): boolean {
  const after = (relay.retransmitMs ?? 0) + SLACK_MS;
  // drops are in send order: binary search for the first drop ≥ t − after
  const d = relay.drops;
  let lo = 0, hi = d.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (d[mid] < t - after) lo = mid + 1;
    else hi = mid;
  }
  return lo < d.length && d[lo] <= t + SLACK_MS;
}

/** Latency samples (atMs, ms) within [from, to). */
function samplesIn(lat: number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < lat.length; i += 2) {
    if (lat[i] >= from && lat[i] < to) out.push(lat[i + 1]);
  }
  return out;
}

export function recovery(lat: number[], s: SpikeRecord): SpikeRecovery {
  const base = median(samplesIn(lat, s.startMs - BASELINE_MS, s.startMs - SLACK_MS));
  const after = s.endMs + s.extraMs;
  const peakSamples = samplesIn(lat, s.startMs, after + 2000);
  const peak = peakSamples.length ? Math.max(...peakSamples) : null;
  const out: SpikeRecovery = {
    startMs: s.startMs,
    spanMs: s.endMs - s.startMs,
    extraMs: s.extraMs,
    baselineMs: base,
    peakMs: peak,
    recoveryMs: null,
  };
  if (base === null) return out;
  const tol = Math.max(RECOVERY_TOLERANCE_MS, RECOVERY_TOLERANCE_SHARE * base);
  // Step through the time after the spike in 100 ms steps, up to 30 s.
  for (let t = s.endMs; t < s.endMs + 30_000; t += 100) {
    const m = median(samplesIn(lat, t, t + RECOVERY_SPAN_MS));
    if (m === null) continue;
    if (m <= base + tol) {
      out.recoveryMs = t - s.endMs;
      return out;
    }
  }
  return out;
}

/** The figures of one listener over [fromMs, toMs). */
export function figures(
  rec: ListenerRecord,
  relay: RelayRecord,
  fromMs: number,
  toMs: number,
): ListenerFigures {
  const spikes = relay.spikes.filter((s) => s.startMs >= fromMs && s.startMs < toMs);
  const z = (): GapCounts => ({ events: 0, packets: 0 });
  const gaps = { spike: z(), loss: z(), late: z(), silent: z() };
  const resyncs = { total: 0, inSpike: 0 };
  for (let i = 0; i + 2 < rec.gaps.length; i += 3) {
    const [t, n, kind] = [rec.gaps[i], rec.gaps[i + 1], rec.gaps[i + 2]];
    if (t < fromMs || t >= toMs) continue;
    const spiky = inSpike(t, relay.spikes);
    if (kind === RESYNC) {
      resyncs.total++;
      if (spiky) resyncs.inSpike++;
      continue;
    }
    const c = spiky ? gaps.spike : nearDrop(t, relay) ? gaps.loss : gaps.late;
    c.events++;
    c.packets += n;
    if (kind === GAP_SILENT) {
      gaps.silent.events++;
      gaps.silent.packets += n;
    }
  }
  const lat = samplesIn(rec.latency, fromMs, toMs);
  return {
    seconds: (toMs - fromMs) / 1000,
    latency: { samples: lat.length, p50: quantile(lat, 0.5), p95: quantile(lat, 0.95) },
    gaps,
    resyncs,
    spikes: spikes.map((s) => recovery(rec.latency, s)),
  };
}

/** A count per `seconds` of run, as per 10 minutes. */
export function per10Min(n: number, seconds: number): number {
  return seconds > 0 ? (n * 600) / seconds : 0;
}
