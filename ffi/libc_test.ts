import assert from "node:assert/strict";
import {
  EAGAIN,
  EBADF,
  errno,
  IOVEC_BYTES,
  IP_TOS,
  IPPROTO_IP,
  libc,
  MMSGHDR_BYTES,
  MSG_DONTWAIT,
  strerror,
} from "./libc.ts";

Deno.test("libc constants match the Linux ABI values the sender relies on", () => {
  assert.equal(IPPROTO_IP, 0);
  assert.equal(IP_TOS, 1);
  assert.equal(MSG_DONTWAIT, 0x40);
  assert.equal(EAGAIN, 11);
  assert.equal(IOVEC_BYTES, 16);
  assert.equal(MMSGHDR_BYTES, 64);
});

Deno.test("errno reports the error of the libc call that just failed", () => {
  const val = new Int32Array(1);
  const rc = libc().setsockopt(-1, IPPROTO_IP, IP_TOS, val, 4);
  assert.equal(rc, -1);
  assert.equal(errno(), EBADF);
});

Deno.test("sendmmsg on a bad descriptor fails with EBADF", () => {
  const rc = libc().sendmmsg(-1, null, 0, MSG_DONTWAIT);
  assert.equal(rc, -1);
  assert.equal(errno(), EBADF);
});

Deno.test("strerror names the error and its number", () => {
  assert.equal(strerror(EBADF), "Bad file descriptor (errno 9)");
  assert.equal(strerror(EAGAIN), "Resource temporarily unavailable (errno 11)");
});
