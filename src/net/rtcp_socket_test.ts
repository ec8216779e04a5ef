import assert from "node:assert/strict";
import { DenoRtcpSocket, openPortPair } from "./rtcp_socket.ts";

/** A stand-in RTP socket: a plain Deno UDP socket. */
function rtpOpener(hostname: string) {
  return (port: number) => {
    const conn = Deno.listenDatagram({ transport: "udp", hostname, port });
    return Promise.resolve({
      localPort: (conn.addr as Deno.NetAddr).port,
      close: () => conn.close(),
    });
  };
}

Deno.test("with port 0 the RTP and RTCP sockets are bound as a pair (RTCP = RTP + 1)", async () => {
  for (let i = 0; i < 5; i++) {
    const { rtp, rtcp } = await openPortPair("127.0.0.1", 0, rtpOpener("127.0.0.1"));
    assert.equal(rtcp.localPort, rtp.localPort + 1);
    rtp.close();
    rtcp.close();
  }
});

Deno.test("a fixed RTP port whose + 1 is taken stops the start with a clear error", async () => {
  let taken: Deno.DatagramConn;
  let port: number;
  for (;;) {
    taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    port = (taken.addr as Deno.NetAddr).port - 1;
    try {
      Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
      break; // the RTP port itself is free: only its + 1 is taken
    } catch {
      taken.close();
    }
  }
  try {
    await assert.rejects(
      () => openPortPair("127.0.0.1", port, rtpOpener("127.0.0.1")),
      new RegExp(`RTCP port ${port + 1} \\(RTP port \\+ 1\\) cannot be bound`),
    );
  } finally {
    taken.close();
  }
});

Deno.test("sending to a port nobody listens on is counted, never thrown; the socket keeps receiving", async () => {
  const s = DenoRtcpSocket.open("127.0.0.1", 0);
  const got: number[] = [];
  const loop = s.run((d) => got.push(d.length));
  const closed = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const dead = (closed.addr as Deno.NetAddr).port;
  closed.close();
  for (let i = 0; i < 5; i++) s.send(new Uint8Array(8), "127.0.0.1", dead);
  await new Promise((r) => setTimeout(r, 100));
  const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  await peer.send(new Uint8Array(12), {
    transport: "udp",
    hostname: "127.0.0.1",
    port: s.localPort,
  });
  for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got, [12], "still receiving after the ICMP errors");
  assert.equal(s.sent + s.sendErrors, 5);
  peer.close();
  s.close();
  await loop;
});
