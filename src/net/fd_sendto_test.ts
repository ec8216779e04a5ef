import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { EAGAIN, EBADF, ENOBUFS } from "../../ffi/libc.ts";
import { FdDatagramSender, parseIpv4, type SendtoCalls } from "./fd_sendto.ts";

Deno.test("fd sendto: a datagram sent on a node:dgram socket's fd leaves from that socket, bytes intact", async () => {
  // The socket werift's ICE would own, bound to the wildcard address as werift binds it.
  const owner = createSocket("udp4");
  await new Promise<void>((r) => owner.bind({ port: 0 }, () => r()));
  const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const bound = owner.address();
    const sender = FdDatagramSender.forPort(bound.port, bound.address);
    const buf = new Uint8Array(1500);
    for (let i = 0; i < buf.length; i++) buf[i] = i * 7;
    const port = (peer.addr as Deno.NetAddr).port;
    assert.ok(sender.send(buf, 1237, "127.0.0.1", port));
    const [got, from] = await peer.receive();
    assert.deepEqual(got, buf.subarray(0, 1237));
    assert.equal((from as Deno.NetAddr).port, bound.port);
    assert.equal(sender.sent, 1);
    // A name is not an IPv4 literal: the caller sends it another way.
    assert.equal(sender.send(buf, 10, "localhost", port), false);
  } finally {
    peer.close();
    await new Promise<void>((r) => owner.close(() => r()));
  }
});

Deno.test("fd sendto: a full buffer is a lost datagram; a closed socket hands the send back", () => {
  let code = 0;
  const calls: SendtoCalls = { sendto: () => -1, errno: () => code };
  const sender = new FdDatagramSender(99, calls);
  const buf = new Uint8Array(20);
  code = EAGAIN;
  assert.equal(sender.send(buf, 20, "10.0.0.2", 5000), true);
  code = ENOBUFS;
  assert.equal(sender.send(buf, 20, "10.0.0.2", 5000), true);
  assert.equal(sender.dropped, 2);
  code = EBADF;
  assert.equal(sender.send(buf, 20, "10.0.0.2", 5000), false);
  assert.equal(sender.lastErrno, EBADF);
  assert.equal(sender.sent, 0);
});

Deno.test("fd sendto: the destination's sockaddr follows the address and port asked for", () => {
  const seen: number[][] = [];
  const calls: SendtoCalls = {
    sendto: (_fd, _buf, len, _flags, addr) => {
      seen.push([...addr.subarray(2, 8)]);
      return Number(len);
    },
    errno: () => 0,
  };
  const sender = new FdDatagramSender(3, calls);
  const buf = new Uint8Array(4);
  sender.send(buf, 4, "192.168.1.20", 0x1234);
  sender.send(buf, 4, "192.168.1.20", 0x1234);
  sender.send(buf, 4, "10.1.2.3", 80);
  assert.deepEqual(seen, [
    [0x12, 0x34, 192, 168, 1, 20],
    [0x12, 0x34, 192, 168, 1, 20],
    [0, 80, 10, 1, 2, 3],
  ]);
  assert.equal(parseIpv4("256.1.1.1"), -1);
  assert.equal(parseIpv4("1.2.3"), -1);
  assert.equal(parseIpv4("::1"), -1);
  assert.equal(parseIpv4("127.0.0.1"), 0x7f000001);
});
