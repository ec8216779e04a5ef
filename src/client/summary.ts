/**
 * The client's final report: the `--json` object of contract §10 (and what
 * tests read). Numbers that do not exist yet (no latency sample) are null.
 */

import type { ClientOptions, ReferenceClient } from "./session.ts";

export interface ClientSummary {
  packets_received: number;
  packets_expected: number;
  packets_lost: number;
  packet_loss_rate: number;
  jitter_ms: number;
  /** Mean one-way latency over the run (ms), null before any sample. */
  latency_ms: number | null;
  latency_min_ms: number | null;
  latency_max_ms: number | null;
  latency_samples: number;
  sample_rate: number | null;
  channels: number[];
  reconnects: number;
  concealed_packets: number;
  dropped_packets: number;
  /** Of dropped_packets: arrived after their frames were played. */
  late_packets: number;
  /** The jitter buffer's target delay and its jitter estimate (97th percentile lateness), ms. */
  playout_delay_ms: number;
  playout_jitter_ms: number;
  reconnect_attempts: number;
  duplicates: number;
  reordered: number;
  ssrc: number | null;
  payload_type: number | null;
  encoding: string | null;
  compression: string | null;
  ptime_ms: number | null;
  /** Opus: the ack's channel groups (one multistream packet each per packet time); else null. */
  channel_groups: number[][] | null;
  /** Last decoded sample per channel id (PCM only). */
  values: Record<string, number>;
  client_id: string;
  udp_port: number;
  bytes_received: number;
  bandwidth_mbps: number;
  clock_offset_ms: number | null;
  clock_rtt_ms: number | null;
  ntp_samples: number;
  jitter_thresholds: { interpolate: number; drop: number; source: string };
  force_delay_ms: number;
  foreign_ssrc_packets: number;
  malformed_packets: number;
  decode_errors: number;
  /** Packets decoded: PCM packets, or Opus group packets. */
  decoded_packets: number;
  /** Opus: group packets missing when their packet time was played (concealed by PLC). */
  opus_concealed_groups: number;
  /** Opus: group packets that arrived after their packet time was handed on. */
  opus_late_groups: number;
  /** Opus packets counted but not decoded (no decoder given). */
  undecoded_packets: number;
  qos_reports: number;
  /** RTCP on udp_port + 1: the server's sender reports and BYEs taken, our receiver reports sent. */
  rtcp: { sender_reports: number; byes: number; receiver_reports: number } | null;
  duration_s: number;
  error: string | null;
}

const fin = (x: number, digits = 3): number | null =>
  Number.isFinite(x) ? Number(x.toFixed(digits)) : null;

export function summarize(
  c: ReferenceClient,
  elapsedMs: number,
  opts: ClientOptions,
): ClientSummary {
  const r = c.receiver;
  const a = c.lastAck;
  return {
    packets_received: r.seq.received,
    packets_expected: r.seq.expected,
    packets_lost: r.seq.lost,
    packet_loss_rate: fin(r.seq.lossRate, 6) ?? 0,
    jitter_ms: fin(r.jitter.jitterMs) ?? 0,
    latency_ms: fin(r.latency.meanMs),
    latency_min_ms: fin(r.latency.minMs),
    latency_max_ms: fin(r.latency.maxMs),
    latency_samples: r.latency.count,
    sample_rate: a?.sample_rate ?? null,
    channels: a ? [...a.channels] : [],
    reconnects: c.reconnects,
    concealed_packets: c.playout.concealedPackets,
    dropped_packets: c.playout.droppedPackets,
    late_packets: c.playout.latePackets,
    playout_delay_ms: fin(c.playout.delayMs) ?? 0,
    playout_jitter_ms: fin(c.playout.jitterMs) ?? 0,
    reconnect_attempts: c.reconnectAttempts,
    duplicates: r.seq.duplicates,
    reordered: r.seq.reordered,
    ssrc: a?.ssrc ?? null,
    payload_type: a?.payload_type ?? null,
    encoding: a?.encoding ?? null,
    compression: a?.compression ?? null,
    ptime_ms: a?.ptime_ms ?? null,
    channel_groups: a?.encoding === "opus" ? (a.channel_groups ?? [[...a.channels]]) : null,
    values: r.valuesById(),
    client_id: c.clientId,
    udp_port: c.udpPort,
    bytes_received: r.bandwidth.totalBytes,
    bandwidth_mbps: elapsedMs > 0 ? fin((r.bandwidth.totalBytes * 8) / (elapsedMs * 1000)) ?? 0 : 0,
    clock_offset_ms: c.clockSync.synced ? fin(c.clockSync.offsetMs) : null,
    clock_rtt_ms: c.clockSync.synced ? fin(c.clockSync.rttMs) : null,
    ntp_samples: c.clockSync.accepted,
    jitter_thresholds: { ...c.thresholds },
    force_delay_ms: opts.forceDelayMs ?? 0,
    foreign_ssrc_packets: r.foreignSsrc,
    malformed_packets: r.malformed,
    decode_errors: r.decodeErrors,
    decoded_packets: r.decodedPackets,
    opus_concealed_groups: r.opus.concealedGroups,
    opus_late_groups: r.opus.lateGroups,
    undecoded_packets: r.undecoded,
    qos_reports: c.qosReportsSent,
    rtcp: c.rtcp
      ? {
        sender_reports: c.rtcp.srReceived,
        byes: c.rtcp.byeReceived,
        receiver_reports: c.rtcp.rrSent,
      }
      : null,
    duration_s: fin(elapsedMs / 1000) ?? 0,
    error: c.fatalError,
  };
}
