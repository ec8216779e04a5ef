import assert from "node:assert/strict";
import { PollRelayLoop } from "./poll_relay.ts";
import { DROP, type ImpairmentModel } from "./impairment.ts";

/** Answers from a list (the test's own decisions), then 0. */
class Scripted implements ImpairmentModel {
  lastInSpike = false;
  private i = 0;
  constructor(private readonly answers: number[]) {}
  decide(): number {
    return this.answers[this.i++] ?? 0;
  }
}

const udp = () =>
  Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }) as Deno.DatagramConn;
const port = (c: Deno.DatagramConn) => (c.addr as Deno.NetAddr).port;

async function receiveN(c: Deno.DatagramConn, n: number): Promise<number[]> {
  const got: number[] = [];
  const buf = new Uint8Array(2048);
  while (got.length < n) {
    const [d] = await c.receive(buf);
    got.push(d[0]);
  }
  return got;
}

Deno.test("poll relay (to-target): the model's survivors reach the target in due order, the drops never", async () => {
  const target = udp(), server = udp();
  const loop = new PollRelayLoop();
  const observed: [number, number][] = [];
  // Sent 0..5: 0 held 30 ms, 1 dropped, 2 and 4 held 10 ms, 3 and 5 at once.
  const relay = loop.add({
    target: { hostname: "127.0.0.1", port: port(target) },
    model: new Scripted([30, DROP, 10, 0, 10, 0]),
    impaired: "to-target",
    observe: (d, _at, delay) => void observed.push([d[0], delay]),
  });
  try {
    for (let v = 0; v < 6; v++) {
      await server.send(new Uint8Array([v]), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: relay.port,
      });
    }
    loop.runUntil(performance.timeOrigin + performance.now() + 150);
    assert.deepEqual(await receiveN(target, 5), [3, 5, 2, 4, 0]);
    const s = relay.stats;
    assert.equal(s.received, 6);
    assert.equal(s.dropped, 1);
    assert.equal(s.forwarded, 5);
    assert.equal(relay.link.lateness.count, 5); // every held datagram's lateness measured
    assert.equal(relay.link.pending, 0);
    // Each offered datagram is shown to the observer with the model's answer (the bench's RTP timing).
    assert.deepEqual(observed, [[0, 30], [1, DROP], [2, 10], [3, 0], [4, 10], [5, 0]]);
  } finally {
    loop.close();
    target.close();
    server.close();
  }
});

Deno.test("poll relay (from-target): the peer's datagrams pass as they come, the target's answers are impaired back to the peer", async () => {
  const server = udp(), phone = udp();
  const loop = new PollRelayLoop();
  const relay = loop.add({
    target: { hostname: "127.0.0.1", port: port(server) },
    model: new Scripted([DROP, 5, 0]),
    impaired: "from-target",
  });
  const at = { transport: "udp" as const, hostname: "127.0.0.1", port: relay.port };
  try {
    await phone.send(new Uint8Array([7]), at);
    loop.runUntil(performance.timeOrigin + performance.now() + 30);
    const buf = new Uint8Array(64);
    const [hello, from] = await server.receive(buf);
    assert.equal(hello[0], 7);
    assert.equal((from as Deno.NetAddr).port, relay.port); // the server sees the relay, not the phone
    for (const v of [1, 2, 3]) await server.send(new Uint8Array([v]), from);
    loop.runUntil(performance.timeOrigin + performance.now() + 60);
    assert.deepEqual(await receiveN(phone, 2), [3, 2]); // 1 dropped, 2 held 5 ms, 3 at once
    assert.equal(relay.stats.passed, 1);
    assert.equal(relay.stats.dropped, 1);
    assert.equal(relay.stats.forwarded, 2);
  } finally {
    loop.close();
    server.close();
    phone.close();
  }
});
