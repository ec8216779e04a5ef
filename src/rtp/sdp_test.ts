import assert from "node:assert/strict";
import { buildSdp } from "./sdp.ts";

Deno.test("SDP for L24 describes port, payload type, rate, channel count and ptime", () => {
  const sdp = buildSdp({
    serverIp: "192.0.2.10",
    udpPort: 5006,
    payloadType: 96,
    encoding: "L24",
    clockRate: 48000,
    channels: [1, 5, 32],
    ptimeMs: 5,
    sessionId: 42,
    sessionVersion: 7,
    rtcpPort: 5005,
  });
  assert.equal(
    sdp,
    [
      "v=0",
      "o=- 42 7 IN IP4 192.0.2.10",
      "s=m32-server",
      "c=IN IP4 192.0.2.10",
      "t=0 0",
      "m=audio 5006 RTP/AVP 96",
      "a=rtpmap:96 L24/48000/3",
      "a=ptime:5",
      "a=rtcp:5005",
      "a=recvonly",
      "a=extmap:1 urn:x-m32-server:capture-time-ms",
      "a=extmap:2 urn:x-m32-server:event-flags",
      "a=x-m32-channels:1,5,32",
      "",
    ].join("\r\n"),
  );
});

Deno.test("SDP for Opus uses the 48 kHz clock and a multistream fmtp", () => {
  const sdp = buildSdp({
    serverIp: "127.0.0.1",
    udpPort: 5004,
    payloadType: 97,
    encoding: "opus",
    clockRate: 48000,
    channels: [2, 3],
    ptimeMs: 10,
    sessionId: 1,
    sessionVersion: 1,
  });
  assert.match(sdp, /a=rtpmap:97 multiopus\/48000\/2\r\n/);
  assert.match(sdp, /a=fmtp:97 channel_mapping=0,1;num_streams=2;coupled_streams=0\r\n/);
});

Deno.test("SDP for one Opus channel says opus/48000/2 (RFC 7587), not multiopus", () => {
  const sdp = buildSdp({
    serverIp: "127.0.0.1",
    udpPort: 5004,
    payloadType: 97,
    encoding: "opus",
    clockRate: 48000,
    channels: [7],
    ptimeMs: 10,
    sessionId: 1,
    sessionVersion: 1,
  });
  assert.match(sdp, /a=rtpmap:97 opus\/48000\/2\r\n/);
  assert.match(sdp, /a=fmtp:97 sprop-stereo=0\r\n/);
  assert.doesNotMatch(sdp, /multiopus|channel_mapping/);
});

Deno.test("SDP header extension URIs are in a namespace of our own (RFC 8285 §5)", () => {
  const sdp = buildSdp({
    serverIp: "127.0.0.1",
    udpPort: 5004,
    payloadType: 96,
    encoding: "L16",
    clockRate: 48000,
    channels: [1],
    ptimeMs: 5,
    sessionId: 1,
    sessionVersion: 1,
  });
  const uris = [...sdp.matchAll(/a=extmap:\d+ (\S+)/g)].map((m) => m[1]);
  assert.equal(uris.length, 2);
  // urn:<registered NID> or urn:x-… (informal), never an unregistered NID such as urn:m32-server.
  for (const u of uris) assert.match(u, /^urn:x-m32-server:/);
});
