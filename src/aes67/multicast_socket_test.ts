import assert from "node:assert/strict";
import { openMulticastReceiver, RECEIVE_BUFFER_BYTES } from "./multicast_socket.ts";
import { errno, libc, SOL_SOCKET, strerror } from "../../ffi/libc.ts";
import { findUdpSocketFd } from "../net/socket_fd.ts";

function receiveBuffer(fd: number): number {
  const v = new Int32Array(1);
  const len = new Uint32Array([4]);
  if (libc().getsockopt(fd, SOL_SOCKET, 8, v, len) !== 0) throw new Error(strerror(errno()));
  return v[0];
}

Deno.test("a group can be received on the port the server's own RTP socket holds", async () => {
  // As the RTP sender binds: 0.0.0.0, no sharing.
  const rtp = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  const port = (rtp.addr as Deno.NetAddr).port;
  try {
    assert.throws(
      () =>
        Deno.listenDatagram({
          transport: "udp",
          hostname: "239.69.214.9",
          port,
          reuseAddress: true,
        }),
      Deno.errors.AddrInUse,
      "without sharing, Linux refuses the port",
    );
    const rx = await openMulticastReceiver("239.69.214.9", port, "127.0.0.1");
    assert.equal((rx.addr as Deno.NetAddr).port, port);
    // Enlarged up to the kernel's limit (Linux reports twice what was set).
    const max = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_max"));
    assert.equal(
      receiveBuffer(findUdpSocketFd(port, "239.69.214.9")),
      2 * Math.min(max, RECEIVE_BUFFER_BYTES),
    );
    rx.close();
  } finally {
    rtp.close();
  }
});

Deno.test("a bad group or interface is an error that names them", async () => {
  await assert.rejects(
    () => openMulticastReceiver("239.69.214.9", 0, "192.0.2.254"),
    /cannot join multicast group 239\.69\.214\.9 on 192\.0\.2\.254/,
  );
});
