import assert from "node:assert/strict";
import { ClientRtcp, rtcpPortFromSdp } from "./rtcp_receiver.ts";
import type { RtpReceiver } from "./receiver.ts";
import { SequenceTracker } from "./stats.ts";
import { ntpMiddle32, parseRtcp, writeBye, writeSenderReport } from "../rtp/rtcp.ts";

function fakeReceiver(ssrc: number) {
  const seq = new SequenceTracker();
  const r = { stream: { ssrc }, seq, jitter: { jitter: 96.4 } };
  return { r: r as unknown as RtpReceiver, seq };
}

Deno.test("receiver reports: loss per interval (RFC 3550 A.3), cumulative loss, jitter, LSR/DLSR echo", () => {
  const rtcp = new ClientRtcp(0xc0ffee, "m32-client");
  const { r, seq } = fakeReceiver(77);
  for (const s of [0, 1, 2, 5, 6, 7, 8, 9]) seq.update(s); // 3 and 4 lost
  // An SR from the stream's SSRC, arriving at t = 1000 ms.
  const srMs = Date.UTC(2026, 0, 1);
  const sr = new Uint8Array(28);
  writeSenderReport(sr, 0, 77, srMs, 123, 8, 800);
  rtcp.onDatagram(sr, 1000, 77);
  assert.equal(rtcp.srReceived, 1);
  const first = parseRtcp(rtcp.report(1500, r)!)!;
  assert.equal(first[0].type, "rr");
  if (first[0].type !== "rr") return;
  const b = first[0].reports[0];
  assert.equal(first[0].ssrc, 0xc0ffee);
  assert.equal(b.ssrc, 77);
  assert.equal(b.fractionLost, Math.floor((2 * 256) / 10));
  assert.equal(b.cumulativeLost, 2);
  assert.equal(b.highestSeq, 9);
  assert.equal(b.jitter, 96);
  assert.equal(b.lsr, ntpMiddle32(srMs));
  assert.equal(b.dlsr, 32768, "held 0.5 s");
  assert.equal(first[1].type, "sdes", "RR + SDES CNAME compound");
  // Next interval: nothing lost.
  for (let s = 10; s < 20; s++) seq.update(s);
  const second = parseRtcp(rtcp.report(2000, r)!)!;
  if (second[0].type !== "rr") throw new Error("no RR");
  assert.equal(second[0].reports[0].fractionLost, 0);
  assert.equal(second[0].reports[0].cumulativeLost, 2);
});

Deno.test("an SR or BYE about another SSRC, and garbage, change nothing", () => {
  const rtcp = new ClientRtcp(1, "c");
  const { r } = fakeReceiver(77);
  const sr = new Uint8Array(28);
  writeSenderReport(sr, 0, 78, Date.now(), 1, 1, 1);
  rtcp.onDatagram(sr, 0, 77);
  const bye = new Uint8Array(8);
  writeBye(bye, 0, 78);
  rtcp.onDatagram(bye, 0, 77);
  rtcp.onDatagram(new Uint8Array([1, 2, 3]), 0, 77);
  assert.equal(rtcp.srReceived, 0);
  assert.equal(rtcp.byeReceived, 0);
  assert.equal(rtcp.malformed, 1);
  assert.equal(rtcp.report(0, r), null, "no report before the first packet");
});

Deno.test("the server's RTCP port is read from the SDP's a=rtcp line", () => {
  assert.equal(rtcpPortFromSdp("v=0\r\nm=audio 5004 RTP/AVP 96\r\na=rtcp:5005\r\n"), 5005);
  assert.equal(rtcpPortFromSdp("v=0\r\n"), null);
  assert.equal(rtcpPortFromSdp("a=rtcp:70000\r\n"), null);
});
