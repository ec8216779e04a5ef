import assert from "node:assert/strict";
import { checkCommitLength, checkDestination, DenoSender, MAX_IN_FLIGHT } from "./deno_sender.ts";
import { getTos } from "./dscp.ts";
import { findUdpSocketFd } from "./socket_fd.ts";

const MAX = 1400;

function open(dscp = 0): DenoSender {
  return DenoSender.open({ hostname: "127.0.0.1", port: 0, maxDatagramBytes: MAX, dscp });
}

function receiver(): { conn: Deno.DatagramConn; port: number } {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  return { conn, port: (conn.addr as Deno.NetAddr).port };
}

Deno.test("checkDestination returns the address as a number and rejects bad ports", () => {
  assert.equal(checkDestination("10.1.2.3", 5004), 0x0a010203);
  assert.throws(() => checkDestination("10.1.2.3", 0), /1\.\.65535, got 0/);
  assert.throws(() => checkDestination("10.1.2.3", 1.5), RangeError);
  assert.throws(() => checkDestination("phone.local", 5004), /not an IPv4 address/);
});

Deno.test("checkCommitLength allows 1..max and names the bad length", () => {
  checkCommitLength(1, 10);
  checkCommitLength(10, 10);
  assert.throws(() => checkCommitLength(0, 10), /1\.\.10 bytes, got 0/);
  assert.throws(() => checkCommitLength(11, 10), /got 11/);
});

Deno.test("deno sender copies each slot, so reusing it does not change queued datagrams", async () => {
  const r = receiver();
  const sender = open();
  try {
    const dest = sender.destination("127.0.0.1", r.port);
    for (let i = 0; i < 5; i++) {
      const buf = sender.slot();
      buf.fill(i + 1, 0, 50 + i);
      sender.commit(50 + i, dest);
    }
    sender.flush();
    await sender.settled();
    const got = new Map<number, Uint8Array>();
    for (let i = 0; i < 5; i++) {
      const [data, from] = await r.conn.receive();
      assert.equal((from as Deno.NetAddr).port, sender.localPort);
      got.set(data[0], data);
    }
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(got.get(i + 1), new Uint8Array(50 + i).fill(i + 1));
    }
    assert.equal(sender.stats.packets, 5);
    assert.equal(sender.stats.bytes, 50 + 51 + 52 + 53 + 54);
  } finally {
    sender.close();
    r.conn.close();
  }
});

Deno.test("deno sender counts a failed send instead of throwing", async () => {
  const sender = open();
  try {
    sender.slot()[0] = 1;
    // Port 0 cannot be a destination; the kernel refuses it and the promise rejects.
    sender.commit(1, { hostname: "127.0.0.1", port: 0 });
    await sender.settled();
    assert.equal(sender.stats.packets, 0);
    assert.equal(sender.stats.errors, 1);
    assert.notEqual(sender.stats.lastError, "");
  } finally {
    sender.close();
  }
});

Deno.test("deno sender rejects empty and oversize datagrams", () => {
  const sender = open();
  try {
    const dest = sender.destination("127.0.0.1", 9);
    assert.throws(() => sender.commit(0, dest), /got 0/);
    assert.throws(() => sender.commit(MAX + 1, dest), /got 1401/);
    assert.equal(sender.slot().length, MAX);
  } finally {
    sender.close();
  }
});

Deno.test("deno sender marks its socket with the DSCP it was opened with", () => {
  const sender = open(46);
  try {
    const fd = findUdpSocketFd(sender.localPort, "127.0.0.1");
    assert.equal(getTos(fd), 0xb8);
    sender.setDscp(10);
    assert.equal(getTos(fd), 0x28);
  } finally {
    sender.close();
  }
});

Deno.test("deno sender close frees the port and later commits throw", () => {
  const sender = open();
  const port = sender.localPort;
  sender.close();
  sender.close();
  assert.throws(() => sender.commit(1, { hostname: "127.0.0.1", port: 9 }), /closed/);
  Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
});

Deno.test("deno sender drops (and counts) datagrams beyond the in-flight bound instead of queueing without limit", async () => {
  const rx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sender = DenoSender.open({
    hostname: "127.0.0.1",
    port: 0,
    maxDatagramBytes: 200,
    dscp: 0,
  });
  try {
    const dest = sender.destination("127.0.0.1", (rx.addr as Deno.NetAddr).port);
    for (let i = 0; i < MAX_IN_FLIGHT + 100; i++) sender.commit(10, dest); // no await: all in flight
    assert.equal(sender.stats.errors, 100);
    assert.match(sender.stats.lastError, /in flight/);
    await sender.settled();
    assert.equal(sender.stats.packets, MAX_IN_FLIGHT);
  } finally {
    sender.close();
    rx.close();
  }
});
