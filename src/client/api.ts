/**
 * HTTP bodies of the contract (§3) the client reads and writes, runtime-neutral:
 * `/audio-meta`, `/request-audio`, `/jitter-thresholds`, `/qos-metrics`, and
 * the error shape `{"error":{"code","message"}}`.
 */

import { ProtocolError } from "./messages.ts";

export interface MetaChannel {
  id: number;
  name: string;
  order: number;
}

export interface AudioMeta {
  sample_rate: number;
  native_sample_rate: number;
  encoding: string;
  compressions: string[];
  ptime_ms: number;
  /** Mapped channels in send order. */
  channels: MetaChannel[];
  config_version: number;
  rtp: { payload_type: number; server_port: number };
  test_mode: boolean;
}

export interface RequestAudioAnswer {
  status: "ok";
  client_id: string;
  udp_port: number;
  ssrc: number;
  sdp: string;
}

export interface JitterThresholds {
  /** Late by more than this (ms): conceal (interpolate). */
  interpolate: number;
  /** Late by more than this (ms): drop. */
  drop: number;
}

export const DEFAULT_JITTER_THRESHOLDS: Readonly<JitterThresholds> = {
  interpolate: 100,
  drop: 200,
};

export interface QosMetrics {
  packets_received: number;
  packets_expected: number;
  packet_loss_rate: number;
  jitter_ms: number;
  latency_ms: number;
  bandwidth_mbps: number;
}

export interface QosReport {
  client_id: string;
  timestamp: string;
  metrics: QosMetrics;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseAudioMeta(v: unknown): AudioMeta {
  if (!isObj(v)) throw new ProtocolError("/audio-meta answer must be an object");
  if (typeof v.sample_rate !== "number" || !Array.isArray(v.channels)) {
    throw new ProtocolError("/audio-meta answer needs sample_rate and channels");
  }
  const channels: MetaChannel[] = v.channels.map((c: unknown, i: number) => {
    if (!isObj(c) || !Number.isInteger(c.id)) {
      throw new ProtocolError(`/audio-meta channels[${i}] needs an integer id`);
    }
    const id = c.id as number;
    return {
      id,
      name: typeof c.name === "string" ? c.name : `CH${String(id).padStart(2, "0")}`,
      order: typeof c.order === "number" ? c.order : i + 1,
    };
  });
  const rtp = isObj(v.rtp) ? v.rtp : {};
  return {
    sample_rate: v.sample_rate,
    native_sample_rate: typeof v.native_sample_rate === "number"
      ? v.native_sample_rate
      : v.sample_rate,
    encoding: typeof v.encoding === "string" ? v.encoding : "L24",
    compressions: Array.isArray(v.compressions) ? v.compressions.map(String) : ["none"],
    ptime_ms: typeof v.ptime_ms === "number" ? v.ptime_ms : 5,
    channels,
    config_version: typeof v.config_version === "number" ? v.config_version : 0,
    rtp: {
      payload_type: typeof rtp.payload_type === "number" ? rtp.payload_type : 96,
      server_port: typeof rtp.server_port === "number" ? rtp.server_port : 5004,
    },
    test_mode: v.test_mode === true,
  };
}

export function parseRequestAudio(v: unknown): RequestAudioAnswer {
  if (!isObj(v) || v.status !== "ok" || typeof v.client_id !== "string") {
    throw new ProtocolError("/request-audio answer needs status ok and client_id");
  }
  return {
    status: "ok",
    client_id: v.client_id,
    udp_port: typeof v.udp_port === "number" ? v.udp_port : 0,
    ssrc: typeof v.ssrc === "number" ? v.ssrc >>> 0 : 0,
    sdp: typeof v.sdp === "string" ? v.sdp : "",
  };
}

/** Valid thresholds: integers (ms) with 0 < interpolate < drop (contract §3). */
export function validJitterThresholds(t: Partial<JitterThresholds>): t is JitterThresholds {
  return Number.isFinite(t.interpolate) && Number.isFinite(t.drop) &&
    (t.interpolate as number) > 0 && (t.interpolate as number) < (t.drop as number);
}

export function parseJitterThresholds(v: unknown): JitterThresholds {
  if (!isObj(v)) throw new ProtocolError("/jitter-thresholds answer must be an object");
  const t = { interpolate: v.interpolate as number, drop: v.drop as number };
  if (!validJitterThresholds(t)) {
    throw new ProtocolError(
      `/jitter-thresholds needs 0 < interpolate < drop, got ${JSON.stringify(v)}`,
    );
  }
  return t;
}

/**
 * Which thresholds apply (requirements, 지터 임계값 적용 정책): the environment's
 * values when both are set and valid, else the server's, else 100/200 ms.
 * `source` says which one won.
 */
export function resolveJitterThresholds(
  env: Partial<JitterThresholds>,
  server: JitterThresholds | null,
): JitterThresholds & { source: "env" | "server" | "default" } {
  const fromEnv = {
    interpolate: env.interpolate ?? server?.interpolate ?? DEFAULT_JITTER_THRESHOLDS.interpolate,
    drop: env.drop ?? server?.drop ?? DEFAULT_JITTER_THRESHOLDS.drop,
  };
  if ((env.interpolate !== undefined || env.drop !== undefined) && validJitterThresholds(fromEnv)) {
    return { ...fromEnv, source: "env" };
  }
  if (server && validJitterThresholds(server)) return { ...server, source: "server" };
  return { ...DEFAULT_JITTER_THRESHOLDS, source: "default" };
}

/** The `/qos-metrics` body exactly as the requirements show it. NaN latency is sent as 0. */
export function qosReport(clientId: string, nowMs: number, m: QosMetrics): QosReport {
  const r = (x: number, digits: number) => Number.isFinite(x) ? Number(x.toFixed(digits)) : 0;
  return {
    client_id: clientId,
    timestamp: new Date(nowMs).toISOString(),
    metrics: {
      packets_received: m.packets_received,
      packets_expected: m.packets_expected,
      packet_loss_rate: r(m.packet_loss_rate, 6),
      jitter_ms: r(m.jitter_ms, 3),
      latency_ms: r(m.latency_ms, 3),
      bandwidth_mbps: r(m.bandwidth_mbps, 3),
    },
  };
}

/** The message of a contract error body, or null. */
export function errorMessageOf(v: unknown): string | null {
  if (!isObj(v) || !isObj(v.error)) return null;
  const e = v.error;
  return `${typeof e.code === "string" ? e.code : "error"}: ${
    typeof e.message === "string" ? e.message : ""
  }`;
}
