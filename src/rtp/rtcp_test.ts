import assert from "node:assert/strict";
import {
  compoundBytes,
  ntpFromUnixMs,
  ntpMiddle32,
  parseRtcp,
  PT_SR,
  roundTripMs,
  unixMsFromNtp,
  writeBye,
  writeReceiverReport,
  writeSdesCname,
  writeSenderReport,
} from "./rtcp.ts";
import { SeededRandom } from "../util/clock.ts";

const enc = new TextEncoder();

Deno.test("an SR's NTP timestamp is seconds since 1900 and a 32-bit fraction", () => {
  // 2024-01-01T00:00:00.500Z
  const ms = Date.UTC(2024, 0, 1) + 500;
  const [s, f] = ntpFromUnixMs(ms);
  assert.equal(s, Date.UTC(2024, 0, 1) / 1000 + 2_208_988_800);
  assert.equal(f, 0x8000_0000);
  assert.ok(Math.abs(unixMsFromNtp(s, f) - ms) < 1e-6);
  assert.equal(ntpMiddle32(ms), (((s & 0xffff) << 16) | 0x8000) >>> 0);
});

Deno.test("SR + SDES CNAME + BYE compound: exact bytes, and parsed back", () => {
  const buf = new Uint8Array(compoundBytes(11, 3));
  const ms = Date.UTC(2024, 0, 1) + 250;
  let off = writeSenderReport(buf, 0, 0x11223344, ms, 0xfffffff0, 1000, 5_000_000_000);
  off = writeSdesCname(buf, off, 0x11223344, enc.encode("m32@1.2.3.4"));
  off = writeBye(buf, off, 0x11223344, enc.encode("bye"));
  assert.equal(off, buf.length);
  // The SR header: V=2, RC=0, PT=200, length 6 words − 1.
  assert.deepEqual([...buf.subarray(0, 4)], [0x80, PT_SR, 0, 6]);
  // SDES: V=2, SC=1, PT=202; 4 + 2 + 11 + 1 null = 18 → padded to 20 + SSRC 4 → 6 words.
  assert.deepEqual([...buf.subarray(28, 32)], [0x81, 202, 0, 5]);
  assert.deepEqual([...buf.subarray(36, 38)], [1, 11]);
  const parsed = parseRtcp(buf)!;
  assert.equal(parsed.length, 3);
  const sr = parsed[0];
  assert.equal(sr.type, "sr");
  if (sr.type !== "sr") return;
  assert.equal(sr.ssrc, 0x11223344);
  assert.equal(sr.rtpTimestamp, 0xfffffff0);
  assert.equal(sr.packetCount, 1000);
  assert.equal(sr.octetCount, 5_000_000_000 % 2 ** 32, "the octet count wraps at 32 bits");
  assert.ok(Math.abs(unixMsFromNtp(sr.ntpSeconds, sr.ntpFraction) - ms) < 1e-6);
  assert.deepEqual(parsed[1], {
    type: "sdes",
    chunks: [{ ssrc: 0x11223344, cname: "m32@1.2.3.4" }],
  });
  assert.deepEqual(parsed[2], { type: "bye", ssrcs: [0x11223344], reason: "bye" });
});

Deno.test("RR report blocks round-trip, negative cumulative loss included", () => {
  const block = {
    ssrc: 0xdeadbeef,
    fractionLost: 64,
    cumulativeLost: -3,
    highestSeq: 0x0001_0005,
    jitter: 48,
    lsr: 0x12345678,
    dlsr: 65536,
  };
  const buf = new Uint8Array(8 + 24);
  assert.equal(writeReceiverReport(buf, 0, 7, [block]), buf.length);
  assert.deepEqual(parseRtcp(buf), [{ type: "rr", ssrc: 7, reports: [block] }]);
});

Deno.test("round trip from LSR/DLSR: arrival − LSR − DLSR", () => {
  const sent = Date.UTC(2024, 0, 1, 12);
  const lsr = ntpMiddle32(sent);
  // The receiver held the SR 100 ms; the report arrives 140 ms after the SR left: 40 ms RTT.
  const rtt = roundTripMs(sent + 140, lsr, Math.round(0.1 * 65536))!;
  assert.ok(Math.abs(rtt - 40) < 0.05, `${rtt}`);
  assert.equal(roundTripMs(sent + 140, 0, 0), null, "LSR 0: no SR seen yet");
  assert.equal(roundTripMs(sent, lsr, 65536), null, "a DLSR longer than the wait is refused");
});

Deno.test("an RR + SDES CNAME compound in the layout GStreamer rtpsession sends parses", () => {
  // RR (1 block) + SDES CNAME "user1@host" as rtpsession sends it.
  const hex = "81c90007" + "a1b2c3d4" + "11223344" + "00000000" + "0000abcd" + "00000010" +
    "87654321" + "00001000" + "81ca0005" + "a1b2c3d4" + "010a7573" + "65723140" + "686f7374" +
    "00000000";
  const bytes = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const p = parseRtcp(bytes)!;
  assert.equal(p.length, 2);
  assert.equal(p[0].type, "rr");
  if (p[0].type !== "rr") return;
  assert.equal(p[0].reports[0].ssrc, 0x11223344);
  assert.equal(p[0].reports[0].highestSeq, 0xabcd);
  assert.equal(p[0].reports[0].jitter, 16);
  assert.deepEqual(p[1], { type: "sdes", chunks: [{ ssrc: 0xa1b2c3d4, cname: "user1@host" }] });
});

Deno.test("malformed RTCP is refused, never thrown", () => {
  const good = new Uint8Array(8 + 24);
  writeReceiverReport(good, 0, 7, [{
    ssrc: 1,
    fractionLost: 0,
    cumulativeLost: 0,
    highestSeq: 0,
    jitter: 0,
    lsr: 0,
    dlsr: 0,
  }]);
  assert.equal(parseRtcp(new Uint8Array(0)), null, "empty");
  assert.equal(parseRtcp(good.subarray(0, 28)), null, "truncated block");
  const v1 = good.slice();
  v1[0] = 0x41;
  assert.equal(parseRtcp(v1), null, "version 1");
  const long = good.slice();
  long[3] = 9;
  assert.equal(parseRtcp(long), null, "length past the datagram");
  const rc = good.slice();
  rc[0] = 0x82;
  assert.equal(parseRtcp(rc), null, "more blocks than the length holds");
  const pad = good.slice();
  pad[0] |= 0x20;
  pad[pad.length - 1] = 200;
  assert.equal(parseRtcp(pad), null, "padding longer than the packet");
  // An RTP packet (PT 96) on the RTCP port is not RTCP we know: `other`, no crash.
  const rtp = new Uint8Array(12);
  rtp[0] = 0x80;
  rtp[1] = 96;
  rtp[3] = 2;
  assert.deepEqual(parseRtcp(rtp), [{ type: "other", packetType: 96 }]);
});

Deno.test("fuzz: random bytes, bit flips and truncations of valid compounds never throw", () => {
  const rnd = new SeededRandom(12345);
  const base = new Uint8Array(compoundBytes(20, 10) + 8 + 24 * 2);
  let off = writeReceiverReport(base, 0, 9, [
    { ssrc: 1, fractionLost: 3, cumulativeLost: 4, highestSeq: 5, jitter: 6, lsr: 7, dlsr: 8 },
    { ssrc: 2, fractionLost: 3, cumulativeLost: 4, highestSeq: 5, jitter: 6, lsr: 7, dlsr: 8 },
  ]);
  off = writeSdesCname(base, off, 9, enc.encode("x".repeat(20)));
  off = writeBye(base, off, 9, enc.encode("0123456789"));
  const valid = base.subarray(0, off);
  assert.ok(parseRtcp(valid), "the seed parses");
  let parsedSome = 0;
  for (let i = 0; i < 20_000; i++) {
    let b: Uint8Array;
    const mode = i % 3;
    if (mode === 0) {
      b = new Uint8Array(rnd.u32() % 200);
      for (let k = 0; k < b.length; k++) b[k] = rnd.u32() & 0xff;
      if (b.length > 0 && (i & 1)) b[0] = 0x80 | (b[0] & 0x3f); // version 2 half the time
    } else if (mode === 1) {
      b = valid.slice();
      for (let f = 1 + (rnd.u32() % 4); f > 0; f--) b[rnd.u32() % b.length] ^= 1 << (rnd.u32() % 8);
    } else {
      b = valid.slice(0, (rnd.u32() % (valid.length + 1)) & ~3);
    }
    const p = parseRtcp(b);
    if (p) parsedSome++;
  }
  assert.ok(parsedSome > 0, "some mutants are still valid RTCP");
});
