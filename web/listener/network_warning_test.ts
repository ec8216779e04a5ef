import assert from "node:assert/strict";
import { networkWarning } from "./network_warning.ts";

/** What the server sends (src/qos/client_quality.ts): figures against their limits, and a reason. */
const POOR = {
  type: "network_warning",
  reason: "poor network: latency 140 ms is over the 80 ms threshold",
  latency_ms: 140.4,
  packet_loss_rate: 0.031,
  jitter_ms: 12,
  latency_threshold_ms: 80,
  loss_threshold: 0.02,
};

Deno.test("a network warning says the network is the problem, with its figures, in each language", () => {
  assert.equal(
    networkWarning(POOR, "en"),
    "Poor Wi-Fi: latency 140 ms (limit 80 ms), packet loss 3.1 % (limit 2.0 %). " +
      "The network is the problem, not the box.",
  );
  assert.equal(
    networkWarning(POOR, "ko"),
    "Wi-Fi 상태가 나쁩니다: 지연 140 ms (한도 80 ms), 패킷 손실 3.1 % (한도 2.0 %). " +
      "박스가 아니라 네트워크 문제입니다.",
  );
  assert.equal(
    networkWarning({ ...POOR, packet_loss_rate: 0.001 }, "en"),
    "Poor Wi-Fi: latency 140 ms (limit 80 ms). The network is the problem, not the box.",
  );
});

Deno.test("a failing source is not blamed on the network; other warnings keep the server's reason", () => {
  const source = {
    type: "network_warning",
    reason: "audio source error: x",
    source_state: "error",
  };
  assert.match(networkWarning(source, "ko"), /콘솔 오디오/);
  assert.equal(
    networkWarning({ type: "network_warning", reason: "packet loss 3 %" }, "en"),
    "Network warning: packet loss 3 %",
  );
});
