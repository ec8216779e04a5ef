import assert from "node:assert/strict";
import { DSCP_EF, dscpToTos, getTos, setDscp } from "./dscp.ts";
import { findUdpSocketFd } from "./socket_fd.ts";

Deno.test("dscpToTos shifts the codepoint past the ECN bits (EF 46 → 0xB8)", () => {
  assert.equal(dscpToTos(DSCP_EF), 0xb8);
  assert.equal(dscpToTos(0), 0);
  assert.equal(dscpToTos(63), 0xfc);
  assert.equal(dscpToTos(10), 0x28);
});

Deno.test("dscpToTos rejects values outside 0..63 and non-integers", () => {
  for (const bad of [-1, 64, 1.5, NaN, Infinity]) {
    assert.throws(() => dscpToTos(bad), RangeError, `DSCP ${bad}`);
  }
});

Deno.test("setDscp marks a Deno UDP socket and getTos reads it back", () => {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const fd = findUdpSocketFd((conn.addr as Deno.NetAddr).port, "127.0.0.1");
    assert.equal(getTos(fd), 0);
    setDscp(fd, DSCP_EF);
    assert.equal(getTos(fd), 0xb8);
    setDscp(fd, 8);
    assert.equal(getTos(fd), 0x20);
    setDscp(fd, 0);
    assert.equal(getTos(fd), 0);
    assert.throws(() => setDscp(fd, 64), RangeError);
  } finally {
    conn.close();
  }
});

Deno.test("setDscp and getTos on a descriptor that is not open throw with the errno text", () => {
  assert.throws(() => setDscp(1_000_000, DSCP_EF), /setsockopt\(fd 1000000.*Bad file descriptor/);
  assert.throws(() => getTos(1_000_000), /getsockopt\(fd 1000000.*Bad file descriptor/);
});
