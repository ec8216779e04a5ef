import assert from "node:assert/strict";
import { buildStreamSdp, originLine, ptimeText, refclkText } from "./sdp_build.ts";
import { buildSapPacket, readSapHeader, sapMessageHash } from "./sap_packet.ts";
import { eui64Text, parsePmc, readPtpStateFile } from "./ptp.ts";
import { parseDefaultRoute } from "./interfaces.ts";
import { aes67FramesPerPacket, aes67MaxChannelsPerStream, planStreams } from "./plan.ts";

const params = {
  sessionId: 1234,
  version: 2,
  origin: "192.168.1.20",
  name: "Stage",
  index: 1,
  group: "239.69.83.2",
  ttl: 15,
  sampleRate: 48000,
  channelNames: ["Kick", "Snare"],
  ptimeUs: 333,
  refclk: { kind: "ptp", grandmaster: "00-1D-C1-FF-FE-12-34-56", domain: 0 } as const,
  mediaclkOffset: 0,
};

Deno.test("SDP of a stream: every §13 line and where its RTCP goes, CRLF, in order", () => {
  assert.equal(
    buildStreamSdp(params),
    [
      "v=0",
      "o=- 1234 2 IN IP4 192.168.1.20",
      "s=Stage 2",
      "i=Kick, Snare",
      "c=IN IP4 239.69.83.2/15",
      "t=0 0",
      "m=audio 5004 RTP/AVP 96",
      "a=rtpmap:96 L24/48000/2",
      "a=ptime:0.333",
      "a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0",
      "a=mediaclk:direct=0",
      "a=rtcp:5005",
      "a=recvonly",
      "",
    ].join("\r\n"),
  );
  // A name with a line break cannot inject a line.
  assert.doesNotMatch(buildStreamSdp({ ...params, name: "a\r\na=evil" }), /\r\na=evil/);
  assert.equal(originLine(buildStreamSdp(params)), "o=- 1234 2 IN IP4 192.168.1.20\r\n");
  assert.deepEqual([125, 250, 333, 1000, 4000].map(ptimeText), [
    "0.125",
    "0.25",
    "0.333",
    "1",
    "4",
  ]);
  assert.equal(
    refclkText({ kind: "system", mac: "02:fc:00:0a:0b:01" }),
    "localmac=02-FC-00-0A-0B-01",
  );
});

Deno.test("SAP packet: RFC 2974 header, payload type, announce and delete share the hash", () => {
  const sdp = buildStreamSdp(params);
  const a = buildSapPacket({ origin: "192.168.1.20", sdp });
  assert.deepEqual([...a.subarray(0, 8)], [
    0x20,
    0,
    ...[sapMessageHash(sdp) >> 8, sapMessageHash(sdp) & 0xff],
    192,
    168,
    1,
    20,
  ]);
  const h = readSapHeader(a);
  assert.deepEqual(
    { ...h, payload: undefined },
    {
      deletion: false,
      hash: sapMessageHash(sdp),
      origin: "192.168.1.20",
      payloadType: "application/sdp",
      payload: undefined,
    },
  );
  assert.equal(h.payload, sdp);
  const d = readSapHeader(
    buildSapPacket({ origin: "192.168.1.20", sdp, deletion: true, payload: originLine(sdp) }),
  );
  assert.equal(d.deletion, true);
  assert.equal(d.hash, h.hash);
  assert.equal(d.payload, "o=- 1234 2 IN IP4 192.168.1.20\r\n");
  assert.notEqual(sapMessageHash(sdp), sapMessageHash(buildStreamSdp({ ...params, version: 3 })));
});

Deno.test("pmc answer: locked slave, own grandmaster, or not PTP time", () => {
  const answer = (state: string, gm: string) => `
sending: GET DEFAULT_DATA_SET
	0a0b0c.fffe.0d0e0f-0 seq 0 RESPONSE MANAGEMENT DEFAULT_DATA_SET
		clockIdentity           0a0b0c.fffe.0d0e0f
		domainNumber            3
	0a0b0c.fffe.0d0e0f-0 seq 1 RESPONSE MANAGEMENT PARENT_DATA_SET
		grandmasterIdentity     ${gm}
	0a0b0c.fffe.0d0e0f-0 seq 2 RESPONSE MANAGEMENT TIME_PROPERTIES_DATA_SET
		currentUtcOffset      37
	0a0b0c.fffe.0d0e0f-1 seq 3 RESPONSE MANAGEMENT PORT_DATA_SET
		portState               ${state}
`;
  assert.deepEqual(parsePmc(answer("SLAVE", "001dc1.fffe.123456")), {
    grandmaster: "00-1D-C1-FF-FE-12-34-56",
    domain: 3,
    utcOffsetS: 37,
    portState: "SLAVE",
    clockIdentity: "0A-0B-0C-FF-FE-0D-0E-0F",
  });
  assert.equal(parsePmc(answer("MASTER", "0a0b0c.fffe.0d0e0f"))?.portState, "MASTER");
  assert.equal(parsePmc(answer("MASTER", "001dc1.fffe.123456")), null);
  assert.equal(parsePmc(answer("LISTENING", "0a0b0c.fffe.0d0e0f")), null);
  assert.equal(parsePmc(""), null);
  assert.throws(() => eui64Text("xyz"));
});

Deno.test("default route from /proc/net/route; stream plan and packet sizes", () => {
  const route = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
wlan0	00000000	0102A8C0	0003	0	0	600	00000000	0	0	0
eth0	00000000	0100000A	0003	0	0	100	00000000	0	0	0
eth0	0000000A	00000000	0001	0	0	100	00FFFFFF	0	0	0
`;
  assert.equal(parseDefaultRoute(route), "eth0");
  assert.equal(parseDefaultRoute(route.split("\n")[0]), null);
  assert.deepEqual(planStreams([3, 1, 2, 9, 10], 2, "239.69.83.254"), [
    { index: 0, group: "239.69.83.254", channels: [3, 1] },
    { index: 1, group: "239.69.83.255", channels: [2, 9] },
    { index: 2, group: "239.69.84.0", channels: [10] },
  ]);
  assert.deepEqual([125, 250, 333, 1000, 4000].map((p) => aes67FramesPerPacket(p)), [
    6,
    12,
    16,
    48,
    192,
  ]);
  assert.deepEqual([125, 250, 333, 1000, 4000].map((p) => aes67MaxChannelsPerStream(p)), [
    8,
    8,
    8,
    8,
    2,
  ]);
});

Deno.test("PTP state file: read while fresh, ignored when stale or missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ptp-state`;
    assert.equal(await readPtpStateFile(path), null);
    await Deno.writeTextFile(
      path,
      "\t\tclockIdentity 0a0b0c.fffe.0d0e0f\n\t\tdomainNumber 0\n\t\tgrandmasterIdentity 001dc1.fffe.123456\n" +
        "\t\tcurrentUtcOffset 37\n\t\tportState SLAVE\n",
    );
    assert.equal((await readPtpStateFile(path))?.grandmaster, "00-1D-C1-FF-FE-12-34-56");
    assert.equal(await readPtpStateFile(path, Date.now() + 31_000), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
