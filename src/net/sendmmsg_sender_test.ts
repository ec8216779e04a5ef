import assert from "node:assert/strict";
import { EAGAIN, EINVAL, ENOBUFS, errno, libc } from "../../ffi/libc.ts";
import { getTos } from "./dscp.ts";
import { type SendmmsgCalls, SendmmsgSender, writeSockaddrIn } from "./sendmmsg_sender.ts";

const MAX = 1400;

function open(batchSize: number, calls?: SendmmsgCalls, dscp = 0): SendmmsgSender {
  return SendmmsgSender.open(
    { hostname: "127.0.0.1", port: 0, maxDatagramBytes: MAX, dscp, batchSize },
    calls,
  );
}

function receiver(): { conn: Deno.DatagramConn; port: number } {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  return { conn, port: (conn.addr as Deno.NetAddr).port };
}

/** Receives `n` datagrams; rejects if they do not all arrive within a generous safety limit. */
async function receiveN(conn: Deno.DatagramConn, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`received ${out.length} of ${n} datagrams`)), 10_000);
  });
  try {
    while (out.length < n) out.push((await Promise.race([conn.receive(), limit]))[0]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Datagram `i`: its length is 20 + i, every byte is (i * 7 + k) & 0xff. */
function writeNumbered(
  sender: SendmmsgSender,
  i: number,
  dest = sender.destination("127.0.0.1", 1),
) {
  const buf = sender.slot();
  const len = 20 + i;
  for (let k = 0; k < len; k++) buf[k] = (i * 7 + k) & 0xff;
  sender.commit(len, dest);
}

function numbered(i: number): Uint8Array {
  const b = new Uint8Array(20 + i);
  for (let k = 0; k < b.length; k++) b[k] = (i * 7 + k) & 0xff;
  return b;
}

/** Real libc calls, except that scripted steps replace a call's result. */
function scripted(
  steps: ({ limit: number } | { errno: number })[],
): SendmmsgCalls & { calls: number } {
  const sym = libc();
  let injectedErrno = 0;
  const s = {
    calls: 0,
    sendmmsg(fd: number, ptr: Deno.PointerValue, vlen: number, flags: number): number {
      const step = steps[s.calls++];
      if (step === undefined) return sym.sendmmsg(fd, ptr, vlen, flags);
      if ("errno" in step) {
        injectedErrno = step.errno;
        return -1;
      }
      return sym.sendmmsg(fd, ptr, Math.min(vlen, step.limit), flags);
    },
    errno: () => injectedErrno || errno(),
  };
  return s;
}

Deno.test("writeSockaddrIn lays out family (host order), port and address (network order)", () => {
  const buf = new Uint8Array(16).fill(0xee);
  writeSockaddrIn(buf, 0x7f000001, 5004);
  assert.deepEqual([...buf], [2, 0, 0x13, 0x8c, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => writeSockaddrIn(new Uint8Array(8), 1, 1), /needs 16 bytes, got 8/);
});

Deno.test("sendmmsg sender delivers exact bytes to several receivers in batches", async () => {
  const a = receiver();
  const b = receiver();
  const sender = open(4);
  try {
    const da = sender.destination("127.0.0.1", a.port);
    const db = sender.destination("127.0.0.1", b.port);
    for (let i = 0; i < 10; i++) writeNumbered(sender, i, i % 2 === 0 ? da : db);
    assert.equal(sender.syscalls, 2, "two full batches of 4 went out on commit");
    sender.flush();
    assert.equal(sender.syscalls, 3);
    const gotA = await receiveN(a.conn, 5);
    const gotB = await receiveN(b.conn, 5);
    assert.deepEqual(gotA, [0, 2, 4, 6, 8].map(numbered));
    assert.deepEqual(gotB, [1, 3, 5, 7, 9].map(numbered));
    const bytes = Array.from({ length: 10 }, (_, i) => 20 + i).reduce((x, y) => x + y);
    assert.deepEqual(sender.stats, { packets: 10, bytes, errors: 0, lastError: "" });
  } finally {
    sender.close();
    a.conn.close();
    b.conn.close();
  }
});

Deno.test("sendmmsg sender datagrams come from its bound local port", async () => {
  const r = receiver();
  const sender = open(8);
  try {
    writeNumbered(sender, 3, sender.destination("127.0.0.1", r.port));
    sender.flush();
    const [data, from] = await r.conn.receive();
    assert.deepEqual(data, numbered(3));
    assert.equal((from as Deno.NetAddr).port, sender.localPort);
  } finally {
    sender.close();
    r.conn.close();
  }
});

Deno.test("sendmmsg sender reuses its preallocated slots batch after batch", () => {
  const sender = open(3);
  try {
    const dest = sender.destination("127.0.0.1", 9);
    const first = sender.slot();
    assert.equal(first.length, MAX);
    assert.equal(sender.slot(), first, "slot() without commit returns the same buffer");
    const seen = new Set<Uint8Array>();
    for (let i = 0; i < 3; i++) {
      seen.add(sender.slot());
      sender.commit(1, dest);
    }
    assert.equal(seen.size, 3, "each queued datagram has its own slot");
    assert.equal(sender.slot(), first, "after a full batch the first slot is reused");
  } finally {
    sender.close();
  }
});

Deno.test("sendmmsg sender flush with nothing queued makes no system call", () => {
  const sender = open(4);
  try {
    sender.flush();
    sender.flush();
    assert.equal(sender.syscalls, 0);
    assert.equal(sender.stats.packets, 0);
  } finally {
    sender.close();
  }
});

Deno.test("sendmmsg sender rejects empty, oversize and fractional lengths without queueing", () => {
  const sender = open(4);
  try {
    const dest = sender.destination("127.0.0.1", 9);
    assert.throws(() => sender.commit(0, dest), /1\.\.1400 bytes, got 0/);
    assert.throws(() => sender.commit(MAX + 1, dest), /got 1401/);
    assert.throws(() => sender.commit(2.5, dest), RangeError);
    sender.flush();
    assert.equal(sender.syscalls, 0);
  } finally {
    sender.close();
  }
});

Deno.test("sendmmsg sender destination() accepts only IPv4 literals and ports 1..65535", () => {
  const sender = open(2);
  try {
    assert.throws(() => sender.destination("localhost", 5004), /not an IPv4 address/);
    assert.throws(() => sender.destination("127.0.0.1", 0), /port .* got 0/);
    assert.throws(() => sender.destination("127.0.0.1", 65536), RangeError);
    const d = sender.destination("10.0.0.1", 5004);
    assert.deepEqual([d.hostname, d.port], ["10.0.0.1", 5004]);
  } finally {
    sender.close();
  }
});

Deno.test("sendmmsg sender accepts a destination object it did not make", async () => {
  const r = receiver();
  const sender = open(4);
  try {
    writeNumbered(sender, 1, { hostname: "127.0.0.1", port: r.port });
    sender.flush();
    assert.deepEqual(await receiveN(r.conn, 1), [numbered(1)]);
  } finally {
    sender.close();
    r.conn.close();
  }
});

Deno.test("sendmmsg sender sends the rest after a short count", async () => {
  const r = receiver();
  const calls = scripted([{ limit: 2 }]);
  const sender = open(8, calls);
  try {
    const dest = sender.destination("127.0.0.1", r.port);
    for (let i = 0; i < 5; i++) writeNumbered(sender, i, dest);
    sender.flush();
    assert.equal(calls.calls, 2);
    assert.deepEqual(await receiveN(r.conn, 5), [0, 1, 2, 3, 4].map(numbered));
    assert.equal(sender.stats.packets, 5);
    assert.equal(sender.stats.errors, 0);
  } finally {
    sender.close();
    r.conn.close();
  }
});

Deno.test("sendmmsg sender retries EAGAIN once and then delivers", async () => {
  const r = receiver();
  const calls = scripted([{ errno: EAGAIN }]);
  const sender = open(8, calls);
  try {
    const dest = sender.destination("127.0.0.1", r.port);
    for (let i = 0; i < 3; i++) writeNumbered(sender, i, dest);
    sender.flush();
    assert.deepEqual(await receiveN(r.conn, 3), [0, 1, 2].map(numbered));
    assert.deepEqual(sender.stats.errors, 0);
  } finally {
    sender.close();
    r.conn.close();
  }
});

Deno.test("sendmmsg sender counts the rest as errors when ENOBUFS persists", () => {
  const calls = scripted([{ limit: 1 }, { errno: ENOBUFS }, { errno: ENOBUFS }, { limit: 99 }]);
  const sender = open(8, calls);
  try {
    const dest = sender.destination("127.0.0.1", 9);
    for (let i = 0; i < 4; i++) writeNumbered(sender, i, dest);
    sender.flush();
    assert.equal(calls.calls, 3, "one retry, then give up for this flush");
    assert.equal(sender.stats.packets, 1);
    assert.equal(sender.stats.errors, 3);
    assert.match(sender.stats.lastError, /errno 105/);
  } finally {
    sender.close();
  }
});

Deno.test("sendmmsg sender drops only the datagram a hard error refers to", async () => {
  const r = receiver();
  const calls = scripted([{ limit: 1 }, { errno: EINVAL }]);
  const sender = open(8, calls);
  try {
    const dest = sender.destination("127.0.0.1", r.port);
    for (let i = 0; i < 5; i++) writeNumbered(sender, i, dest);
    sender.flush();
    assert.deepEqual(await receiveN(r.conn, 4), [0, 2, 3, 4].map(numbered));
    assert.equal(sender.stats.packets, 4);
    assert.equal(sender.stats.errors, 1);
    assert.match(sender.stats.lastError, /Invalid argument \(errno 22\)/);
  } finally {
    sender.close();
    r.conn.close();
  }
});

Deno.test("sendmmsg sender applies DSCP at open and on setDscp", () => {
  const sender = open(2, undefined, 46);
  try {
    assert.equal(getTos(sender.fd), 0xb8);
    sender.setDscp(0);
    assert.equal(getTos(sender.fd), 0);
    assert.throws(() => sender.setDscp(64), RangeError);
  } finally {
    sender.close();
  }
});

Deno.test("sendmmsg sender close sends what is queued, frees the port and refuses more", async () => {
  const r = receiver();
  const sender = open(8);
  const port = sender.localPort;
  writeNumbered(sender, 6, sender.destination("127.0.0.1", r.port));
  sender.close();
  try {
    assert.deepEqual(await receiveN(r.conn, 1), [numbered(6)]);
    assert.throws(() => sender.commit(1, { hostname: "127.0.0.1", port: r.port }), /closed/);
    assert.throws(() => sender.setDscp(0), /closed/);
    const again = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
    again.close();
  } finally {
    r.conn.close();
  }
});

Deno.test("sendmmsg sender rejects a batch size outside 1..1024", () => {
  assert.throws(() => open(0), /batchSize .* got 0/);
  assert.throws(() => open(1025), RangeError);
});
