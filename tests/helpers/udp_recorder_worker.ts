/**
 * A UDP receiver on a thread of its own (tests/audio_plane_test.ts): it keeps
 * receiving while the test's main thread — which is also the server's — is
 * blocked, so arrival times measure the server, not the test.
 *
 *   main → {type:"stop"}   worker → {type:"port", port} once bound,
 *                          {type:"packets", rows} on stop, rows of
 *                          [sequence, timestamp, captureTimeMs, payloadLength, arrivalMs]
 */
/// <reference lib="deno.worker" />
import { parseRtp } from "../../src/rtp/packet.ts";

const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
self.postMessage({ type: "port", port: (conn.addr as Deno.NetAddr).port });
const rows: number[][] = [];
self.onmessage = () => {
  conn.close();
};
try {
  for await (const [data] of conn) {
    const at = performance.timeOrigin + performance.now();
    const p = parseRtp(data);
    rows.push([p.sequence, p.timestamp, p.captureTimeMs, p.payloadLength, at]);
  }
} catch {
  // closed by stop
}
self.postMessage({ type: "packets", rows });
self.close();
