/**
 * Both PacketSender kinds deliver exact bytes over loopback to several Deno
 * UDP receivers, through the same slot → commit → flush path the streaming
 * engine uses, with more datagrams than one sendmmsg batch holds.
 */

import assert from "node:assert/strict";
import { createSender, SENDER_KINDS } from "../src/net/create_sender.ts";
import { DenoSender } from "../src/net/deno_sender.ts";
import { SendmmsgSender } from "../src/net/sendmmsg_sender.ts";
import { SeededRandom } from "../src/util/clock.ts";

const DESTINATIONS = 3;
const PACKETS = 100; // > the default batch of 32
const MAX = 1400;

/** Datagram `seq`: u16 BE seq, then pseudo-random bytes; its length varies 2..MAX. */
function datagram(seq: number): Uint8Array {
  const rnd = new SeededRandom(seq + 1);
  const len = 2 + (rnd.u32() % (MAX - 1));
  const b = new Uint8Array(len);
  b[0] = seq >> 8;
  b[1] = seq & 0xff;
  for (let i = 2; i < len; i++) b[i] = rnd.u32() & 0xff;
  return b;
}

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

for (const kind of SENDER_KINDS) {
  Deno.test(`${kind} sender delivers exact bytes to ${DESTINATIONS} receivers, beyond one batch`, async () => {
    const receivers = Array.from(
      { length: DESTINATIONS },
      () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
    );
    const reasons: string[] = [];
    const sender = await createSender(
      kind,
      { hostname: "127.0.0.1", port: 0, maxDatagramBytes: MAX, dscp: 46 },
      (r) => reasons.push(r),
    );
    try {
      assert.equal(sender.kind, kind, `no fallback expected: ${reasons.join("; ")}`);
      const dests = receivers.map((r) =>
        sender.destination("127.0.0.1", (r.addr as Deno.NetAddr).port)
      );
      const expected: Uint8Array[][] = dests.map(() => []);
      let bytes = 0;
      for (let seq = 0; seq < PACKETS; seq++) {
        const d = datagram(seq);
        sender.slot().set(d);
        sender.commit(d.length, dests[seq % DESTINATIONS]);
        expected[seq % DESTINATIONS].push(d);
        bytes += d.length;
        if (seq % 10 === 9) sender.flush(); // once per "period"
      }
      sender.flush();
      if (sender instanceof DenoSender) await sender.settled();

      for (let i = 0; i < DESTINATIONS; i++) {
        const got = await receiveN(receivers[i], expected[i].length);
        const bySeq = (a: Uint8Array, b: Uint8Array) => (a[0] << 8 | a[1]) - (b[0] << 8 | b[1]);
        assert.deepEqual(got.sort(bySeq), expected[i], `receiver ${i}`);
      }
      assert.deepEqual(sender.stats, { packets: PACKETS, bytes, errors: 0, lastError: "" });
      const dest = dests[0];
      assert.throws(() => sender.commit(0, dest), RangeError, "zero-length datagrams are refused");
    } finally {
      sender.close();
      for (const r of receivers) r.close();
    }
  });
}

Deno.test("sendmmsg sender coalesces a client's packet time into one UDP GSO message the receiver gets as separate datagrams", async () => {
  const rx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const rx2 = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sender = SendmmsgSender.open({
    hostname: "127.0.0.1",
    port: 0,
    maxDatagramBytes: 1400,
    dscp: 0,
  });
  try {
    const a = sender.destination("127.0.0.1", (rx.addr as Deno.NetAddr).port);
    const b = sender.destination("127.0.0.1", (rx2.addr as Deno.NetAddr).port);
    const sizes = [1308, 1308, 1308, 1308, 1308, 1308, 1308, 1308, 780]; // 8 full + a shorter last
    const sent: Uint8Array[] = [];
    for (const [i, n] of sizes.entries()) {
      const slot = sender.slot();
      for (let k = 0; k < n; k++) slot[k] = (i * 31 + k) & 0xff;
      sent.push(slot.slice(0, n));
      sender.commit(n, a);
    }
    sender.slot().fill(7, 0, 50);
    sender.commit(50, b); // another client: its own message
    sender.flush();
    assert.equal(sender.syscalls, 1);
    assert.equal(sender.gsoMessages, 1, "the 9 datagrams to one client went as one message");
    assert.equal(sender.stats.packets, 10);
    for (const want of sent) {
      const [got] = await rx.receive();
      assert.deepEqual(got, want);
    }
    const [other] = await rx2.receive();
    assert.equal(other.length, 50);
  } finally {
    sender.close();
    rx.close();
    rx2.close();
  }
});

Deno.test("GSO never merges a datagram larger than the message's segment size", async () => {
  const rx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sender = SendmmsgSender.open({
    hostname: "127.0.0.1",
    port: 0,
    maxDatagramBytes: 1400,
    dscp: 0,
  });
  try {
    const a = sender.destination("127.0.0.1", (rx.addr as Deno.NetAddr).port);
    for (const n of [1000, 1200, 1200, 600, 1200]) {
      sender.slot().fill(n & 0xff, 0, n);
      sender.commit(n, a);
    }
    sender.flush();
    // [1000] [1200 1200 600] [1200]: a bigger one, and one after a short last, start new messages
    assert.equal(sender.gsoMessages, 1);
    const lengths: number[] = [];
    for (let i = 0; i < 5; i++) lengths.push((await rx.receive())[0].length);
    assert.deepEqual(lengths, [1000, 1200, 1200, 600, 1200]);
  } finally {
    sender.close();
    rx.close();
  }
});
