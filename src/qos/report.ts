/**
 * A client's `/qos-metrics` report (docs/protocol.md §3): what its receiver
 * counted over the last interval. The schema lives with the QoS code that
 * reads it; src/http/schemas.ts re-exports it for the route.
 */
import * as v from "valibot";

const nonNegative = v.pipe(v.number(), v.finite(), v.minValue(0));

export const QosReport = v.object({
  client_id: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  timestamp: v.optional(v.string()),
  metrics: v.object({
    packets_received: nonNegative,
    packets_expected: nonNegative,
    packet_loss_rate: v.pipe(v.number(), v.finite()),
    jitter_ms: nonNegative,
    latency_ms: v.pipe(v.number(), v.finite()),
    bandwidth_mbps: nonNegative,
  }),
});
export type QosReport = v.InferOutput<typeof QosReport>;
