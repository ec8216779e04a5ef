import assert from "node:assert/strict";
import { EVENT_TIME_SYNC, NO_EXTENSION, parseRtp, PT_PCM, writeRtpHeader } from "./packet.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");

Deno.test("RTP header without extension matches the RFC 3550 byte layout", () => {
  const buf = new Uint8Array(12);
  const n = writeRtpHeader(buf, true, PT_PCM, 0x1234, 0xdeadbeef, 0x01020304, NO_EXTENSION, 0);
  assert.equal(n, 12);
  assert.equal(hex(buf), "80 e0 12 34 de ad be ef 01 02 03 04");
});

Deno.test("RTP header extension is the 16-byte RFC 8285 one-byte block with capture time and flags", () => {
  const buf = new Uint8Array(28);
  const t = 1_721_123_456_789; // 0x190_baf3_c715 ms: needs more than 32 bits
  const n = writeRtpHeader(buf, false, 96, 1, 2, 3, t, EVENT_TIME_SYNC);
  assert.equal(n, 28);
  assert.equal(
    hex(buf.subarray(12)),
    // 0xBEDE, length 3 words | id1 len8 | u64 BE time | id2 len1 | flags | pad
    "be de 00 03 17 00 00 01 90 ba f3 c7 15 20 01 00",
  );
  assert.equal(buf[0], 0x90, "X bit set");
});

Deno.test("RTP write then parse round-trips every field", () => {
  const buf = new Uint8Array(28 + 6);
  for (const ext of [NO_EXTENSION, 1_795_000_000_123]) {
    const n = writeRtpHeader(buf, true, 97, 65535, 4294967295, 2863311530, ext, ext < 0 ? 0 : 1);
    buf.set([1, 2, 3, 4, 5, 6], n);
    const p = parseRtp(buf, n + 6);
    assert.equal(p.marker, true);
    assert.equal(p.payloadType, 97);
    assert.equal(p.sequence, 65535);
    assert.equal(p.timestamp, 4294967295);
    assert.equal(p.ssrc, 2863311530);
    assert.equal(p.captureTimeMs, ext);
    assert.equal(p.eventFlags, ext < 0 ? 0 : 1);
    assert.equal(p.payloadOffset, n);
    assert.deepEqual([...buf.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)], [
      1,
      2,
      3,
      4,
      5,
      6,
    ]);
  }
});

Deno.test("RTP timestamps wrap modulo 2^32", () => {
  const buf = new Uint8Array(12);
  writeRtpHeader(buf, false, 96, 70000, 2 ** 32 + 5, 1, NO_EXTENSION, 0);
  const p = parseRtp(buf);
  assert.equal(p.timestamp, 5);
  assert.equal(p.sequence, 70000 & 0xffff);
});

Deno.test("RTP parser rejects truncated packets naming both lengths", () => {
  assert.throws(() => parseRtp(new Uint8Array(7)), /needs 12 bytes, got 7/);
  const buf = new Uint8Array(28);
  writeRtpHeader(buf, false, 96, 1, 1, 1, 5, 0);
  assert.throws(() => parseRtp(buf, 20), /extension needs 28 bytes, got 20/);
  const v1 = new Uint8Array(12);
  v1[0] = 0x40;
  assert.throws(() => parseRtp(v1), /version must be 2, got 1/);
});
