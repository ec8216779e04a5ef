import assert from "node:assert/strict";
import { parseSapPacket, SAP_MIN_TIMEOUT_MS, SapDirectory } from "./sap_listener.ts";
import { sapPacket, streamSdp } from "./sap_test_packets.ts";

const S1 = streamSdp({ name: "m32-server 1", sessionId: 11, group: "239.69.83.1", channels: 8 });
const S2 = streamSdp({ name: "m32-server 2", sessionId: 12, group: "239.69.83.2", channels: 8 });

Deno.test("a SAP announcement is parsed with or without the payload type and authentication data", () => {
  for (const opts of [{}, { payloadType: true }, { authWords: 2, payloadType: true }]) {
    const p = parseSapPacket(
      sapPacket(S1, { ...opts, source: [192, 168, 1, 9], msgIdHash: 0xbeef }),
    );
    assert.equal(p.kind, "announce");
    if (p.kind !== "announce") continue;
    assert.equal(p.sapSource, "192.168.1.9");
    assert.equal(p.msgIdHash, 0xbeef);
    assert.equal(p.payload, S1);
  }
  assert.equal(parseSapPacket(sapPacket(S1, { deletion: true })).kind, "delete");
});

Deno.test("announcements add and refresh sessions; a deletion removes one by its origin", () => {
  const d = new SapDirectory();
  assert.equal(d.handle(sapPacket(S1), 1000), "announce");
  assert.equal(d.handle(sapPacket(S2), 1000), "announce");
  assert.equal(d.handle(sapPacket(S1), 31000), "announce");
  const list = d.list(31000);
  assert.deepEqual(list.map((s) => s.session.name), ["m32-server 1", "m32-server 2"]);
  assert.equal(list[0].lastHeardMs, 31000);
  assert.equal(list[0].intervalMs, 30000);
  // The deletion carries only the o= line (RFC 2974 §3), and another hash.
  const del = sapPacket("v=0\r\no=- 12 1 IN IP4 10.0.0.2\r\n", { deletion: true, msgIdHash: 9 });
  assert.equal(d.handle(del, 32000), "delete");
  assert.deepEqual(d.list(32000).map((s) => s.session.name), ["m32-server 1"]);
  // A deletion without an SDP finds the session by SAP source and hash.
  assert.equal(d.handle(sapPacket("", { deletion: true, msgIdHash: 0x1234 }), 33000), "delete");
  assert.equal(d.list(33000).length, 0);
  assert.equal(d.handle(sapPacket("", { deletion: true }), 34000), "ignored");
});

Deno.test("a session not heard for ten intervals or the minimum timeout is dropped", () => {
  const d = new SapDirectory({ minTimeoutMs: 60_000 });
  d.handle(sapPacket(S1), 0);
  d.handle(sapPacket(S1), 10_000); // interval 10 s → timeout max(100 s, 60 s)
  assert.equal(d.list(110_000).length, 1);
  assert.equal(d.list(110_001).length, 0);
  const rfc = new SapDirectory();
  rfc.handle(sapPacket(S1), 0);
  assert.equal(rfc.list(SAP_MIN_TIMEOUT_MS).length, 1, "RFC 2974: at least an hour");
  assert.equal(rfc.list(SAP_MIN_TIMEOUT_MS + 1).length, 0);
});

Deno.test("a session is found by a sender's name (its streams in order) or by one whole s= line", () => {
  const d = new SapDirectory();
  const S10 = streamSdp({
    name: "m32-server 10",
    sessionId: 20,
    group: "239.69.83.10",
    channels: 2,
  });
  const other = streamSdp({
    name: "m32-server 1",
    sessionId: 11,
    origin: "10.0.0.3",
    group: "239.70.0.1",
    channels: 2,
  });
  d.handle(sapPacket(S10), 0);
  d.handle(sapPacket(S2), 0);
  d.handle(sapPacket(S1), 0);
  assert.deepEqual(d.find("m32-server", 1).map((s) => s.session.name), [
    "m32-server 1",
    "m32-server 2",
    "m32-server 10",
  ]);
  assert.deepEqual(d.find("m32-server 2", 1).map((s) => s.session.streams[0].group), [
    "239.69.83.2",
  ]);
  assert.deepEqual(d.find("m32-server 3", 1), []);
  assert.deepEqual(d.find("m32", 1), []);
  // A second box of the same name heard more recently wins the name.
  d.handle(sapPacket(other, { source: [10, 0, 0, 3] }), 5);
  assert.deepEqual(d.find("m32-server", 6).map((s) => s.session.origin.address), ["10.0.0.3"]);
});

Deno.test("malformed, encrypted, compressed and random packets are counted and ignored, never thrown", () => {
  const d = new SapDirectory();
  const good = sapPacket(S1, { payloadType: true });
  const bad: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([0x20]),
    Uint8Array.from(good, (b, i) => (i === 0 ? 0x40 : b)), // version 2
    Uint8Array.from(good, (b, i) => (i === 0 ? 0x22 : b)), // encrypted
    Uint8Array.from(good, (b, i) => (i === 0 ? 0x21 : b)), // compressed
    Uint8Array.from(good, (b, i) => (i === 1 ? 255 : b)), // auth longer than the packet
    sapPacket("text/plain\0hello"),
    sapPacket("no NUL and no v=0"),
    sapPacket("v=0\r\ngarbage"),
    Uint8Array.from([0x20, 0, 0, 0, 1, 2, 3, 4, 0x76, 0x3d, 0x30, 0xff, 0xfe]), // "v=0" then not UTF-8
  ];
  for (const p of bad) assert.equal(d.handle(p, 0), "ignored");
  assert.equal(d.list(0).length, 0);
  assert.deepEqual(Object.fromEntries(d.ignored), {
    short: 3,
    version: 1,
    encrypted: 1,
    compressed: 1,
    payload_type: 2,
    bad_sdp: 1,
    not_utf8: 1,
  });
  let seed = 99;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 5000; i++) {
    const p = i % 2
      ? Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256))
      : Uint8Array.from(good, (b) => (rnd() < 0.02 ? Math.floor(rnd() * 256) : b));
    d.handle(p.subarray(0, Math.floor(rnd() * (p.length + 1))), i);
  }
});

Deno.test("a flood of distinct origins is bounded", () => {
  const d = new SapDirectory({ maxSessions: 5 });
  for (let i = 0; i < 20; i++) {
    d.handle(
      sapPacket(streamSdp({ name: `x ${i}`, sessionId: i, group: "239.1.1.1", channels: 1 })),
      0,
    );
  }
  assert.equal(d.list(0).length, 5);
  assert.equal(d.ignored.get("too_many_sessions"), 15);
});
