import assert from "node:assert/strict";
import { parseLabels, parseSdp } from "./sdp_parse.ts";
import { buildStreamSdp } from "./sdp_build.ts";

/** As a Dante device in AES67 mode announces one 8-channel flow (with the usual CRLF). */
const DANTE = [
  "v=0",
  "o=- 1423986 1423994 IN IP4 169.254.98.63",
  "s=AOIP44-serial-1614 : 2",
  "c=IN IP4 239.69.161.58/32",
  "t=0 0",
  "a=keywds:Dante",
  "m=audio 5004 RTP/AVP 97",
  "i=2 channels: 02, 03",
  "a=recvonly",
  "a=rtpmap:97 L24/48000/2",
  "a=ptime:1",
  "a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-0E-10-C4:0",
  "a=mediaclk:direct=963214424",
  "",
].join("\r\n");

Deno.test("a Dante AES67 announcement gives its group, TTL, format, packet time, clock and offset", () => {
  const r = parseSdp(DANTE);
  assert.ok(r.ok);
  const { session } = r;
  assert.equal(session.name, "AOIP44-serial-1614 : 2");
  assert.deepEqual(session.origin, {
    username: "-",
    sessionId: "1423986",
    sessionVersion: "1423994",
    address: "169.254.98.63",
  });
  assert.equal(session.streams.length, 1);
  const s = session.streams[0];
  assert.equal(s.group, "239.69.161.58");
  assert.equal(s.ttl, 32);
  assert.equal(s.port, 5004);
  assert.equal(s.payloadType, 97);
  assert.equal(s.encoding, "L24");
  assert.equal(s.sampleRate, 48000);
  assert.equal(s.channels, 2);
  assert.equal(s.ptimeMs, 1);
  assert.equal(s.refclk, "ptp=IEEE1588-2008:00-1D-C1-FF-FE-0E-10-C4:0");
  assert.equal(s.mediaclkOffset, 963214424);
  // "2 channels: 02, 03": Dante's names after its count.
  assert.deepEqual(s.labels, ["02", "03"]);
});

Deno.test("several m= blocks are streams in order, each with its own address, format and names", () => {
  const r = parseSdp([
    "v=0",
    "o=box 42 7 IN IP4 10.0.0.2",
    "s=stage left",
    "c=IN IP4 239.1.1.1/15",
    "t=0 0",
    "a=ts-refclk:localmac=02-00-00-00-00-01",
    "m=video 5000 RTP/AVP 96",
    "m=audio 5004 RTP/AVP 96",
    "a=rtpmap:96 L24/48000/4",
    "a=label:Kick,Snare,Hat,Tom",
    "a=ptime:0.125",
    "m=audio 5006 RTP/AVP 98",
    "c=IN IP4 239.1.1.2/15",
    "a=rtpmap:98 l16/48000/2",
    "a=label:Vox L",
    "a=label:Vox R",
    "a=mediaclk:direct=0",
    "a=source-filter: incl IN IP4 239.1.1.2 10.0.0.2",
  ].join("\n"));
  assert.ok(r.ok);
  const [a, b] = r.session.streams;
  assert.equal(r.session.streams.length, 2);
  assert.match(r.session.skipped[0], /video/);
  assert.equal(a.index, 1);
  assert.equal(a.group, "239.1.1.1");
  assert.equal(a.ptimeMs, 0.125);
  assert.deepEqual(a.labels, ["Kick", "Snare", "Hat", "Tom"]);
  assert.equal(a.refclk, "localmac=02-00-00-00-00-01", "session-level ts-refclk applies");
  assert.equal(b.group, "239.1.1.2");
  assert.equal(b.port, 5006);
  assert.equal(b.encoding, "L16");
  assert.deepEqual(b.labels, ["Vox L", "Vox R"]);
  assert.equal(b.sourceAddress, "10.0.0.2");
  assert.equal(b.ptimeMs, null);
});

Deno.test("streams we cannot receive are skipped with the reason; a description without any is still a session", () => {
  const r = parseSdp([
    "v=0",
    "o=- 1 1 IN IP4 10.0.0.9",
    "s=odd",
    "m=audio 5004 RTP/AVP 96",
    "a=rtpmap:96 L24/48000/2",
    "m=audio 5004 RTP/AVP 97",
    "c=IN IP6 ff02::1",
    "a=rtpmap:97 L24/48000/2",
    "m=audio 5004 RTP/AVP 96",
    "c=IN IP4 239.2.2.2",
    "a=rtpmap:96 opus/48000/2",
    "m=audio 70000 RTP/AVP 96",
    "c=IN IP4 239.2.2.2",
    "m=audio 5004 RTP/SAVP 96",
    "c=IN IP4 239.2.2.2",
  ].join("\n"));
  assert.ok(r.ok);
  assert.equal(r.session.streams.length, 0);
  assert.equal(r.session.skipped.length, 5);
  assert.match(r.session.skipped[0], /no c= address/);
  assert.match(r.session.skipped[1], /IPv4 only/);
  assert.match(r.session.skipped[2], /opus/);
  assert.match(r.session.skipped[3], /port/);
  assert.match(r.session.skipped[4], /RTP\/SAVP/);
});

Deno.test("text that is not an SDP is refused with a reason, never thrown", () => {
  for (
    const [text, why] of [
      ["", /v=0/],
      ["hello", /v=0/],
      ["v=0\no=short\ns=x", /6 fields/],
      ["v=0\ns=x", /no o=/],
      ["v=0\no=- 1 1 IN IP4 1.2.3.4", /no s=/],
      ["v=0\n" + "a=x\n".repeat(20000), /too long/],
    ] as const
  ) {
    const r = parseSdp(text);
    assert.equal(r.ok, false, text.slice(0, 20));
    if (!r.ok) assert.match(r.error, why);
  }
});

Deno.test("random and mangled descriptions never throw", () => {
  let seed = 1234567;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines = DANTE.split("\r\n");
  for (let i = 0; i < 3000; i++) {
    let text: string;
    if (i % 3 === 0) {
      text = Array.from(
        { length: Math.floor(rnd() * 300) },
        () => String.fromCharCode(Math.floor(rnd() * 256)),
      ).join("");
    } else {
      // Real lines, some cut short or with values replaced by junk.
      text = lines.map((l) => {
        const x = rnd();
        if (x < 0.15) return l.slice(0, Math.floor(rnd() * l.length));
        if (x < 0.3) return l.slice(0, 2) + String.fromCharCode(Math.floor(rnd() * 128)).repeat(3);
        return l;
      }).join(i % 2 ? "\n" : "\r\n");
    }
    const r = parseSdp(text);
    assert.equal(typeof r.ok, "boolean");
  }
});

Deno.test("channel names: one per channel from a comma or semicolon list, else none", () => {
  assert.deepEqual(parseLabels("a, b ,c", 3), ["a", "b", "c"]);
  assert.deepEqual(parseLabels("a;b", 2), ["a", "b"]);
  assert.equal(parseLabels("a,b", 3), null);
  assert.deepEqual(parseLabels("Lead vocal", 1), ["Lead vocal"]);
  assert.equal(parseLabels("  ", 1), null);
});

Deno.test("the box's own AES67 output description (src/aes67/sdp_build.ts) reads back field for field", () => {
  for (
    const [ptimeUs, ptime] of [[1000, 1], [125, 0.125], [333, 0.333], [4000, 4]] as const
  ) {
    const sdp = buildStreamSdp({
      sessionId: 7001,
      version: 3,
      origin: "10.1.2.3",
      name: "FOH box",
      index: 1,
      group: "239.69.83.2",
      ttl: 15,
      sampleRate: 48000,
      channelNames: ["Kick", "Snare", "Bass", "Vox"],
      ptimeUs,
      refclk: { kind: "ptp", grandmaster: "00-1D-C1-FF-FE-0E-10-C4", domain: 0 },
      mediaclkOffset: 0,
    });
    const r = parseSdp(sdp);
    assert.ok(r.ok);
    assert.equal(r.session.name, "FOH box 2");
    assert.equal(r.session.origin.address, "10.1.2.3");
    assert.deepEqual(r.session.streams.map((s) => ({ ...s })), [{
      index: 0,
      group: "239.69.83.2",
      ttl: 15,
      port: 5004,
      payloadType: 96,
      encoding: "L24",
      sampleRate: 48000,
      channels: 4,
      ptimeMs: ptime,
      refclk: "ptp=IEEE1588-2008:00-1D-C1-FF-FE-0E-10-C4:0",
      mediaclk: "direct=0",
      mediaclkOffset: 0,
      sourceAddress: null,
      labels: ["Kick", "Snare", "Bass", "Vox"],
    }]);
  }
});
