/**
 * Every message a client can send, validated here and only here (valibot).
 * Handlers receive typed, checked values; a failure becomes one clear sentence.
 */
import * as v from "valibot";
import { ClientConfigPayload } from "../session/client_config.ts";

// The payload schemas live with the code that acts on them.
export { ClientConfigPayload };
export { QosReport } from "../qos/report.ts";

export const MAX_WS_MESSAGE_BYTES = 64 * 1024;
export const MAX_HTTP_BODY_BYTES = 64 * 1024;

export const WsClientMessage = v.variant("type", [
  v.looseObject({ type: v.literal("heartbeat"), timestamp: v.optional(v.string()) }),
  v.looseObject({ type: v.literal("client_config"), payload: ClientConfigPayload }),
  v.looseObject({ type: v.literal("ntp_request"), t1: v.pipe(v.number(), v.finite()) }),
]);
export type WsClientMessage = v.InferOutput<typeof WsClientMessage>;
export const WS_MESSAGE_TYPES = ["heartbeat", "client_config", "ntp_request"];

/** Longest SDP offer a listener page may send (Chromium's are ≈ 1–3 KB). */
export const MAX_OFFER_SDP_CHARS = 16 * 1024;

/**
 * The listener page's signalling on /listen (src/listener/socket.ts), beside
 * the contract's messages: a WebRTC offer (DataChannel transport) or a
 * request for a WebTransport token.
 */
export const ListenerSignal = v.variant("type", [
  v.looseObject({
    type: v.literal("webrtc_offer"),
    sdp: v.pipe(
      v.string("webrtc_offer needs an sdp string"),
      v.maxLength(MAX_OFFER_SDP_CHARS, `sdp is over ${MAX_OFFER_SDP_CHARS} characters`),
    ),
  }),
  v.looseObject({ type: v.literal("webtransport_connect") }),
]);
export type ListenerSignal = v.InferOutput<typeof ListenerSignal>;

export const JitterThresholdsBody = v.pipe(
  v.strictObject({
    interpolate: v.pipe(
      v.number(),
      v.integer("interpolate must be an integer (ms)"),
      v.minValue(1),
    ),
    drop: v.pipe(v.number(), v.integer("drop must be an integer (ms)"), v.maxValue(10000)),
  }),
  v.check((j) => j.interpolate < j.drop, "interpolate must be below drop"),
);

/** One readable sentence from a valibot failure: "metrics.jitter_ms: Invalid type…". */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  const path = first.path?.map((p) => String(p.key)).join(".");
  return path ? `${path}: ${first.message}` : first.message;
}

export function parseWith<T extends v.GenericSchema>(
  schema: T,
  value: unknown,
): { ok: true; value: v.InferOutput<T> } | { ok: false; message: string } {
  const r = v.safeParse(schema, value);
  return r.success
    ? { ok: true, value: r.output }
    : { ok: false, message: describeIssues(r.issues) };
}
