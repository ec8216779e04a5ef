import assert from "node:assert/strict";
import { findUdpSocketFd, ownSocketInodes, parseProcNetUdp } from "./socket_fd.ts";

const FIXTURE = [
  "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ",
  "  123: 0100007F:13BC 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 45678 2 0000000000000000 0         ",
  "  456: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12 2 0000000000000000 0         ",
  " 1001: 0501A8C0:FFFF 0A01A8C0:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 9999999 2 0000000000000000 3",
  "garbage line",
  "",
].join("\n");

Deno.test("parseProcNetUdp decodes byte-reversed addresses, hex ports and inodes", () => {
  assert.deepEqual(parseProcNetUdp(FIXTURE), [
    { localAddress: "127.0.0.1", localPort: 5052, inode: 45678 },
    { localAddress: "0.0.0.0", localPort: 68, inode: 12 },
    { localAddress: "192.168.1.5", localPort: 65535, inode: 9999999 },
  ]);
});

Deno.test("parseProcNetUdp reads big-endian hosts' addresses in order", () => {
  const [first] = parseProcNetUdp(FIXTURE, false);
  assert.equal(first.localAddress, "1.0.0.127");
});

Deno.test("parseProcNetUdp skips the header, truncated and malformed lines", () => {
  const text = [
    "   sl  local_address rem_address   st",
    "  1: 0100007F:13BC 00000000:0000 07",
    "  2: 0100007G:13BC 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0",
    "  3: 0100007F13BC 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0",
    "  4: 0100007F:13BC 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 x 2 0 0",
  ].join("\n");
  assert.deepEqual(parseProcNetUdp(text), []);
});

Deno.test("findUdpSocketFd finds the fd of a Deno UDP socket and not after it closes", () => {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  let fd: number;
  try {
    fd = findUdpSocketFd(port, "127.0.0.1");
    assert.ok(fd > 2, `fd ${fd} should not be stdio`);
    assert.match(Deno.readLinkSync(`/proc/self/fd/${fd}`), /^socket:\[\d+\]$/);
    assert.equal(findUdpSocketFd(port), fd, "wildcard hostname matches the same socket");
  } finally {
    conn.close();
  }
  assert.throws(() => findUdpSocketFd(port, "127.0.0.1"), /no UDP socket .* port/);
});

Deno.test("ownSocketInodes lists a freshly opened socket", () => {
  const before = ownSocketInodes().size;
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    assert.equal(ownSocketInodes().size, before + 1);
  } finally {
    conn.close();
  }
});
