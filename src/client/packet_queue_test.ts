import assert from "node:assert/strict";
import { PacketQueue } from "./packet_queue.ts";

function drainAll(q: PacketQueue, until: number): [number[], number][] {
  const out: [number[], number][] = [];
  q.drain(until, (buf, len, t) => out.push([Array.from(buf.subarray(0, len)), t]));
  return out;
}

Deno.test("packet queue hands out copies in order up to the given time", () => {
  const q = new PacketQueue(2, 8);
  const src = new Uint8Array([1, 2, 3]);
  q.push(src, 3, 10);
  src[0] = 9; // the queue holds a copy
  q.push(src, 2, 20);
  q.push(src, 1, 30); // grows past 2
  assert.equal(q.peekTime(), 10);
  assert.deepEqual(drainAll(q, 20), [[[1, 2, 3], 10], [[9, 2], 20]]);
  assert.equal(q.length, 1);
  assert.deepEqual(drainAll(q, Infinity), [[[9], 30]]);
  assert.ok(Number.isNaN(q.peekTime()));
});

Deno.test("packet queue keeps order when it grows while wrapped", () => {
  const q = new PacketQueue(3, 16);
  const b = new Uint8Array(1);
  for (let i = 0; i < 3; i++) q.push(b.fill(i), 1, i);
  drainAll(q, 1); // head moves to slot 2
  for (let i = 3; i < 9; i++) q.push(b.fill(i), 1, i);
  assert.deepEqual(drainAll(q, Infinity).map(([d]) => d[0]), [2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("packet queue refuses and counts packets beyond its maximum", () => {
  const q = new PacketQueue(1, 2);
  const b = new Uint8Array(4);
  assert.ok(q.push(b, 4, 0));
  assert.ok(q.push(b, 4, 0));
  assert.equal(q.push(b, 4, 0), false);
  assert.equal(q.overflowed, 1);
});

Deno.test("packet queue grows a slot for a datagram larger than the slot size", () => {
  const q = new PacketQueue(1, 1, 4);
  q.push(new Uint8Array(10).fill(7), 10, 0);
  assert.deepEqual(drainAll(q, 0), [[Array(10).fill(7), 0]]);
});
