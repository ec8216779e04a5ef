/**
 * werift's SCTP tuned for the audio channel (./sctp_tuning.ts), on two real
 * werift SCTP associations joined by an in-memory wire that can lose packets
 * (no DTLS: the writer then hands packets to werift's own serializer; the
 * DTLS record path is exercised end to end by tests/listener_datachannel_test.ts).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { RTCSctpTransport } from "werift";
import {
  ackEverySecondPacket,
  crc32c,
  honourPartialReliability,
  lazyRetransmissionTimer,
  SctpAudioWriter,
  type TimerCalls,
  WEBRTC_BINARY,
  type WeriftSctp,
} from "./sctp_tuning.ts";

interface Wire {
  server: WeriftSctp;
  client: WeriftSctp;
  /** DATA TSNs on the wire server → client (each time sent). */
  dataSent: number[];
  /** SCTP packets client → server that carry a SACK. */
  sacks: number;
  /** Messages the client's association delivered (stream, ppid, bytes). */
  received: Buffer[];
  /** Drops server → client DATA packets with these TSNs the first time they are sent. */
  dropTsn: Set<number>;
  /** Drops every client → server packet (the peer's SACKs are lost or very late). */
  blockAcks: boolean;
  close(): Promise<void>;
}

const SACK = 3;

function chunkTypes(p: Buffer): number[] {
  const types: number[] = [];
  for (let at = 12; at + 4 <= p.length;) {
    types.push(p[at]);
    const len = p.readUInt16BE(at + 2);
    at += (len + 3) & ~3;
  }
  return types;
}

async function wire(): Promise<Wire> {
  const w = {
    dataSent: [] as number[],
    sacks: 0,
    received: [] as Buffer[],
    dropTsn: new Set<number>(),
    blockAcks: false,
  } as Wire;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const fake = (role: string) => ({
    id: role,
    iceTransport: { role },
    dataReceiver: (_: Buffer) => {},
    sendData: (_: Buffer) => Promise.resolve(),
    onStateChange: { subscribe: () => ({ unSubscribe() {} }) },
  });
  const sd = fake("controlled");
  const cd = fake("controlling");
  const deliver = (to: typeof sd, buf: Buffer) => {
    const t = setTimeout(() => {
      timers.delete(t);
      to.dataReceiver(buf);
    }, 0);
    timers.add(t);
  };
  sd.sendData = (buf) => {
    const types = chunkTypes(buf);
    if (types[0] === 0) {
      const tsn = buf.readUInt32BE(16);
      w.dataSent.push(tsn);
      if (w.dropTsn.delete(tsn)) return Promise.resolve();
    }
    deliver(cd, buf);
    return Promise.resolve();
  };
  cd.sendData = (buf) => {
    if (chunkTypes(buf).includes(SACK)) w.sacks++;
    if (!w.blockAcks) deliver(sd, buf);
    return Promise.resolve();
  };
  const st = new RTCSctpTransport();
  const ct = new RTCSctpTransport();
  // deno-lint-ignore no-explicit-any
  st.setDtlsTransport(sd as any);
  // deno-lint-ignore no-explicit-any
  ct.setDtlsTransport(cd as any);
  w.server = st.sctp as unknown as WeriftSctp;
  w.client = ct.sctp as unknown as WeriftSctp;
  ct.sctp.onReceive.subscribe((_s: number, _p: number, data: Buffer) => {
    w.received.push(data);
  });
  await st.start(5000);
  await ct.start(5000);
  await until(() => st.sctp.associationState === 4 && ct.sctp.associationState === 4);
  w.close = async () => {
    await st.stop();
    await ct.stop();
    for (const t of timers) clearTimeout(t);
  };
  return w;
}

async function until(ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

const message = (i: number, n = 200) => Buffer.alloc(n, i & 0xff);

Deno.test("sctp: crc32c is SCTP's checksum (RFC 3720 check value)", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  const b = new TextEncoder().encode("xx123456789yy");
  assert.equal(crc32c(b, 2, 11), 0xe3069283);
});

Deno.test({
  name: "sctp: an unreliable message lost on the wire is abandoned, not resent stale",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const w = await wire();
    try {
      honourPartialReliability(w.server);
      const first = w.server.localTsn;
      w.dropTsn.add((first + 2) >>> 0);
      for (let i = 0; i < 12; i++) {
        // werift's own send path, as the channel's maxRetransmits: 0 asks
        await (w.server as unknown as {
          send(s: number, p: number, d: Buffer, o: object): Promise<void>;
        }).send(0, WEBRTC_BINARY, message(i), { maxRetransmits: 0, ordered: false });
        await new Promise((r) => setTimeout(r, 3));
      }
      const last = (first + 11) >>> 0;
      // The client moves past the hole (FORWARD-TSN) instead of waiting for it.
      await until(() => w.client.lastReceivedTsn === last);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(w.received.length, 11, "the lost message never arrives");
      assert.deepEqual(
        w.dataSent.filter((t) => t === ((first + 2) >>> 0)).length,
        1,
        "the lost message was sent again",
      );
      assert.equal(w.server.sentQueue.length, 0);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name: "sctp: the headless receiver acknowledges every second packet, as Chrome does",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const w = await wire();
    try {
      ackEverySecondPacket(w.client);
      const writer = new SctpAudioWriter(w.server, 0);
      const sacksBefore = w.sacks;
      for (let i = 0; i < 20; i++) {
        writer.send(message(i));
        await until(() => w.dataSent.length === i + 1);
        await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => w.received.length === 20);
      const sacks = w.sacks - sacksBefore;
      assert.ok(sacks <= 11, `${sacks} SACKs for 20 DATA packets`);
      assert.ok(sacks >= 9, `${sacks} SACKs for 20 DATA packets`);
      // A gap is reported at once: the sender learns of the loss without delay.
      const before = w.sacks;
      w.dropTsn.add(w.server.localTsn);
      writer.send(message(20));
      writer.send(message(21));
      await until(() => w.received.length === 21);
      await until(() => w.sacks > before);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name: "sctp: the audio writer's messages arrive intact, and what the window holds back counts",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const w = await wire();
    try {
      const writer = new SctpAudioWriter(w.server, 0);
      assert.equal(writer.maxMessageBytes, w.server.maxPayloadSize);
      assert.throws(() => writer.send(message(0, writer.maxMessageBytes + 1)), RangeError);
      // 20 full-size messages at once: they wait for the transmission running.
      const sent: Buffer[] = [];
      for (let i = 0; i < 20; i++) {
        const m = message(i, writer.maxMessageBytes);
        sent.push(m);
        writer.send(m);
      }
      assert.ok(
        writer.bufferedAmount >= 16 * writer.maxMessageBytes,
        `buffered ${writer.bufferedAmount}`,
      );
      await until(() => w.received.length === 20);
      assert.equal(writer.bufferedAmount, 0);
      const got = [...w.received].sort((a, b) => a[0] - b[0]);
      assert.deepEqual(got.map((b) => Buffer.compare(b, sent[b[0]])), new Array(20).fill(0));
      assert.equal(writer.errors, 0);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name:
    "sctp: late acknowledgements and a retransmission timeout do not throttle the stream below its rate",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const w = await wire();
    try {
      let now = 0;
      const writer = new SctpAudioWriter(w.server, 0, 0, () => now);
      const size = writer.maxMessageBytes;
      // A second of a 200-packet-a-second PCM stream: ≈ 232 KB/s.
      for (let i = 0; i < 201; i++) {
        now = i * 5;
        writer.send(message(i, size));
        await new Promise((r) => setTimeout(r, 0));
      }
      await until(() => w.received.length === 201);
      assert.ok(writer.windowFloor >= 200 * size, `floor ${writer.windowFloor}`);
      // The phone's SACKs stop coming (a busy box, Wi-Fi power saving) and the timer fires:
      // werift falls to a window of one packet.
      w.blockAcks = true;
      (w.server as unknown as { timer3Expired(): void }).timer3Expired();
      assert.equal(writer.timeouts, 1);
      const before = w.dataSent.length;
      for (let i = 0; i < 100; i++) {
        now += 5;
        writer.send(message(i, size));
        await new Promise((r) => setTimeout(r, 0));
      }
      // Half a second of the stream is on the wire, not held at the sender.
      assert.equal(w.dataSent.length - before, 100);
      assert.equal(writer.bufferedAmount, 0);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name: "sctp: beside the audio writer a reliable message lost on the wire is still resent",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const w = await wire();
    try {
      const writer = new SctpAudioWriter(w.server, 0);
      const tsn = w.server.localTsn;
      w.dropTsn.add(tsn);
      // werift's own send, reliable (as its DCEP messages are)
      void (w.server as unknown as {
        send(s: number, p: number, d: Buffer, o: object): Promise<void>;
      }).send(1, WEBRTC_BINARY, message(99), { ordered: false });
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 3));
        writer.send(message(i));
      }
      await until(() => w.received.length === 11);
      assert.ok(w.received.some((b) => b[0] === 99 && b.length === 200));
      assert.equal(w.dataSent.filter((t) => t === tsn).length, 2);
    } finally {
      await w.close();
    }
  },
});

Deno.test("sctp: the retransmission timer is armed once for many restarts and expires an RTO after the last", () => {
  let now = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  let next = 0;
  let sets = 0;
  const timers: TimerCalls = {
    now: () => now,
    set: (fn, ms) => {
      sets++;
      pending.set(++next, { at: now + ms, fn });
      return next;
    },
    clear: (h) => pending.delete(h as number),
  };
  /** Runs the timers due up to `t`, in order. */
  const advance = (t: number) => {
    for (;;) {
      const due = [...pending].filter(([, p]) => p.at <= t).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      pending.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = t;
  };
  let expiries = 0;
  const sctp = {
    rto: 0.2,
    isClosed: false,
    get isStopped(): boolean {
      return (this as { isClosed: boolean }).isClosed;
    },
    timer3Handle: undefined as unknown,
    timer3Expired() {
      (this as { timer3Handle: unknown }).timer3Handle = undefined;
      expiries++;
    },
  } as unknown as WeriftSctp & {
    timer3Expired(): void;
    timer3Restart(): void;
    timer3Cancel(): void;
    isClosed: boolean;
    rto: number;
  };
  lazyRetransmissionTimer(sctp, timers);
  sctp.timer3Start();
  assert.throws(() => sctp.timer3Start()); // werift's own check: started twice
  // A SACK every 10 ms for a second: the timer moves, one real timer stays armed.
  for (let t = 10; t <= 1000; t += 10) {
    advance(t);
    sctp.timer3Restart();
  }
  assert.equal(expiries, 0);
  assert.ok(sets <= 6, `${sets} timers set for 100 restarts`);
  // No SACK any more: it expires RTO (200 ms) after the last restart, not before.
  advance(1199);
  assert.equal(expiries, 0);
  advance(1200);
  assert.equal(expiries, 1);
  assert.equal(sctp.timer3Handle, undefined);
  // A smaller RTO on the next start fires at the smaller time.
  sctp.timer3Start();
  sctp.rto = 0.05;
  sctp.timer3Restart();
  advance(1250);
  assert.equal(expiries, 2);
  // Cancelled: it does not expire; closed: nothing stays pending.
  sctp.timer3Start();
  sctp.timer3Cancel();
  advance(5000);
  assert.equal(expiries, 2);
  sctp.timer3Start();
  sctp.isClosed = true;
  sctp.timer3Cancel();
  assert.equal(pending.size, 0);
});
