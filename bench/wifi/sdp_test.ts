import assert from "node:assert/strict";
import { candidatesToRelay, withoutCandidates } from "./sdp.ts";

Deno.test("the answer's candidates become one: the relay; the loopback one is its target", () => {
  const sdp = [
    "v=0",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "a=candidate:0a1b 1 udp 2130706431 10.0.0.5 40001 typ host",
    "a=candidate:0a1c 1 udp 2130706431 127.0.0.1 40002 typ host",
    "a=end-of-candidates",
    "",
  ].join("\r\n");
  const r = candidatesToRelay(sdp, "127.0.0.1", 50000);
  assert.deepEqual(r.target, { hostname: "127.0.0.1", port: 40002 });
  const cands = r.sdp.split("\r\n").filter((l) => l.startsWith("a=candidate:"));
  assert.deepEqual(cands, ["a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"]);
  assert.ok(r.sdp.includes("a=end-of-candidates\r\n"));
  assert.equal(candidatesToRelay("v=0\r\n", "127.0.0.1", 1).target, null);
});

Deno.test("an offer without candidates keeps every other line", () => {
  const sdp = "v=0\r\na=candidate:1 1 udp 1 abc.local 5000 typ host\r\na=ice-ufrag:x\r\n";
  assert.equal(withoutCandidates(sdp), "v=0\r\na=ice-ufrag:x\r\n");
});
