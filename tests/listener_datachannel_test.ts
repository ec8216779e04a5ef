/**
 * The DataChannel transport end to end without a browser: the page's own
 * connection code (web/listener/connection.ts) with werift as its peer
 * (src/loadtest/headless_listener.ts DENO_PLATFORM) against the server.
 * A PCM stream's RTP packets are built to fit one SCTP DATA chunk, so each
 * packet costs the server one SCTP packet, one DTLS record and one UDP send
 * (werift's SCTP would split a 1400-byte packet in two). They go through the
 * server's own SCTP/DTLS record path, and the listener's SACKs come back through it.
 */
import assert from "node:assert/strict";
import { ListenerConnection } from "../web/listener/connection.ts";
import { DENO_PLATFORM } from "../src/loadtest/headless_listener.ts";
import { DATACHANNEL_MAX_DATAGRAM_BYTES } from "../src/listener/webrtc_peer.ts";
import { sctpWriterStats } from "../src/listener/sctp_tuning.ts";
import { parseRtp, PT_PCM } from "../src/rtp/packet.ts";
import { startToneServer } from "./listener_helpers.ts";

Deno.test({
  name: "datachannel: a PCM stream's packets each fit one SCTP DATA chunk, as few as fit",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 16 });
    const stats0 = { ...sctpWriterStats };
    const sizes: number[] = [];
    let ssrc = -1;
    let done: () => void;
    const enough = new Promise<void>((r) => (done = r));
    const conn = new ListenerConnection(
      new URL(server.url),
      "datachannel",
      {
        prepare: () =>
          Promise.resolve({
            channels: [1, 2, 3, 4, 5, 6, 7, 8].map((id) => ({ id })),
            sample_rate: 48000,
            compression: "none",
          }),
        onState: () => {},
        onWelcome: () => {},
        onAck: (ack) => (ssrc = ack.ssrc),
        onPacket: (bytes) => {
          const p = parseRtp(bytes);
          assert.equal(p.payloadType, PT_PCM);
          assert.equal(p.ssrc >>> 0, ssrc);
          sizes.push(bytes.length);
          if (sizes.length === 400) done();
        },
        onEvent: () => {},
      },
      () => performance.timeOrigin + performance.now(),
      DENO_PLATFORM,
    );
    try {
      conn.start();
      const timeout = setTimeout(() => done(), 20_000);
      await enough;
      clearTimeout(timeout);
      assert.equal(conn.transport, "datachannel");
      assert.equal(sizes.length, 400, `only ${sizes.length} packets arrived`);
      assert.equal(server.ctx.sessions.list()[0].kind, "datachannel");
      const max = Math.max(...sizes);
      assert.ok(max <= DATACHANNEL_MAX_DATAGRAM_BYTES, `a ${max}-byte packet is two SCTP chunks`);
      // 8 channels × 240 frames × 3 bytes a period: the fewest packets the budget allows, not
      // small pieces, with the frames spread evenly over them (docs/protocol.md, RTP).
      const headerBytes = 12 + 16;
      const fit = Math.floor((DATACHANNEL_MAX_DATAGRAM_BYTES - headerBytes) / 24);
      const packets = Math.ceil(240 / fit);
      assert.equal(max, headerBytes + Math.ceil(240 / packets) * 24, `largest packet ${max} bytes`);
      // The server's own record path carried them (src/listener/sctp_tuning.ts), and the
      // listener's acknowledgements (every second packet) came back through it.
      const sealed = sctpWriterStats.sealedRecords - stats0.sealedRecords;
      const sacks = sctpWriterStats.plainSacks - stats0.plainSacks;
      assert.ok(sealed >= 400, `${sealed} records sealed`);
      assert.ok(sacks >= 100 && sacks <= sealed * 0.75, `${sacks} SACKs for ${sealed} records`);
      assert.equal(sctpWriterStats.badRecords - stats0.badRecords, 0);
      // The listener sealed its SACKs the same way (src/listener/sctp_tuning.ts
      // sealRecordsDirectly) and the server opened every one of them.
      assert.ok(sealed >= 400 + sacks, `${sealed} records sealed for 400 packets, ${sacks} SACKs`);
      // Every record went out with sendto(2) on the ICE pair's own socket (src/net/
      // fd_sendto.ts), none through node:dgram, and the listener opened each (the RTP above).
      const direct = sctpWriterStats.directSends - stats0.directSends;
      assert.equal(direct, sealed, `${direct} of ${sealed} records sent on the socket directly`);
      // And the listener's SACKs were read off that socket by the writer's polls (recvfrom),
      // node:dgram's receive loop stopped: all but the few before the first record.
      const polled = sctpWriterStats.polledDatagrams - stats0.polledDatagrams;
      assert.ok(polled >= sacks - 2 && polled > 0, `${polled} datagrams polled, ${sacks} SACKs`);
    } finally {
      conn.stop();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "datachannel: a peer connection closed while the offer is made is not an unhandled rejection",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 16 });
    let offers = 0;
    // What werift does when a reconnect closed the connection mid-negotiation.
    const closedPc = () =>
      ({
        createDataChannel: () => ({}),
        createOffer: () => {
          offers++;
          return Promise.resolve({ type: "offer", sdp: "" });
        },
        setLocalDescription: () => Promise.reject(new Error("RTCPeerConnection is closed")),
        close: () => {},
        iceGatheringState: "new",
      }) as unknown as RTCPeerConnection;
    const states: string[] = [];
    const conn = new ListenerConnection(
      new URL(server.url),
      "datachannel",
      {
        prepare: () =>
          Promise.resolve({ channels: [{ id: 1 }], sample_rate: 48000, compression: "opus" }),
        onState: (s) => states.push(s),
        onWelcome: () => {},
        onAck: () => {},
        onPacket: () => {},
        onEvent: () => {},
      },
      () => performance.timeOrigin + performance.now(),
      { ...DENO_PLATFORM, peerConnection: closedPc },
    );
    try {
      conn.start();
      const end = Date.now() + 10_000;
      while (offers < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      // It tried, failed, and tried again: the rejection was handled, not thrown at the runtime.
      assert.ok(offers >= 2, `${offers} offers`);
      assert.ok(states.includes("reconnecting"), states.join(","));
    } finally {
      conn.stop();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "datachannel: junk datagrams at the server's sockets (read by its polls) are dropped and the stream goes on",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 16 });
    const stats0 = { ...sctpWriterStats };
    let pc: RTCPeerConnection | null = null;
    let packets = 0;
    const conn = new ListenerConnection(
      new URL(server.url),
      "datachannel",
      {
        prepare: () =>
          Promise.resolve({
            channels: [{ id: 1 }, { id: 2 }],
            sample_rate: 48000,
            compression: "none",
          }),
        onState: () => {},
        onWelcome: () => {},
        onAck: () => {},
        onPacket: () => packets++,
        onEvent: () => {},
      },
      () => performance.timeOrigin + performance.now(),
      { ...DENO_PLATFORM, peerConnection: () => (pc = DENO_PLATFORM.peerConnection()) },
    );
    const junk = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      conn.start();
      const until = async (ok: () => boolean) => {
        const end = Date.now() + 20_000;
        while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      };
      await until(() => packets >= 200);
      assert.ok(packets >= 200, `${packets} packets before the junk`);
      // The server's host candidates, from its answer.
      const ports = [
        ...(pc!.remoteDescription?.sdp ?? "").matchAll(/ 127\.0\.0\.1 (\d+) typ host/g),
      ]
        .map((m) => Number(m[1]));
      assert.ok(ports.length > 0, "no server candidate on 127.0.0.1");
      const record = new Uint8Array(80);
      record.set([23, 0xfe, 0xfd, 0, 1], 0); // application data, DTLS 1.2, epoch 1
      record[11] = 0;
      record[12] = 80 - 13; // its length: a well-formed header around junk that does not open
      const datagrams = [
        record,
        new Uint8Array([0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3]), // a truncated STUN request
        crypto.getRandomValues(new Uint8Array(300)),
        new Uint8Array(0),
        new Uint8Array([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), // a handshake header lying about its length
      ];
      for (let round = 0; round < 20; round++) {
        for (const port of ports) {
          for (const d of datagrams) {
            await junk.send(d, { transport: "udp", hostname: "127.0.0.1", port });
          }
        }
      }
      const after = packets;
      await until(() => packets >= after + 200);
      assert.ok(packets >= after + 200, `${packets - after} packets after the junk`);
      assert.equal(conn.state, "streaming");
      // The forged records reached the record path and were dropped there, by the polls.
      assert.ok(sctpWriterStats.badRecords - stats0.badRecords >= 20);
      assert.ok(sctpWriterStats.polledDatagrams - stats0.polledDatagrams >= 100);
    } finally {
      junk.close();
      conn.stop();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
