import assert from "node:assert/strict";
import { openMulticastReceiver } from "./multicast_socket.ts";

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
