import assert from "node:assert/strict";
import { DelayQueue } from "./delay_queue.ts";

const bytes = (...v: number[]) => new Uint8Array(v);

function drain(q: DelayQueue): number[] {
  const out: number[] = [];
  for (let s = q.pop(); s >= 0; s = q.pop()) {
    out.push(q.data(s)[0]);
    q.release(s);
  }
  return out;
}

Deno.test("delay queue gives datagrams back in due order, ties in arrival order", () => {
  const q = new DelayQueue(16, 8);
  const dues = [5, 1, 9, 1, 3, 7, 3, 0];
  dues.forEach((d, i) => assert.ok(q.push(bytes(i, 0xaa), d)));
  assert.equal(q.size, 8);
  assert.equal(q.peekDue(), 0);
  assert.deepEqual(drain(q), [7, 1, 3, 4, 6, 0, 5, 2]);
  assert.equal(q.peekDue(), Infinity);
  assert.equal(q.pop(), -1);
});

Deno.test("delay queue copies each datagram into its own slot and reuses released slots", () => {
  const q = new DelayQueue(2, 4);
  const src = bytes(1, 2, 3);
  assert.ok(q.push(src, 10));
  src[0] = 99; // the queue holds a copy
  assert.ok(q.push(bytes(4), 5));
  assert.equal(q.push(bytes(5), 1), false, "full: every slot in use");
  const a = q.pop();
  assert.deepEqual(q.data(a), bytes(4));
  assert.equal(q.push(bytes(6), 1), false, "popped but not released: still in use");
  q.release(a);
  assert.ok(q.push(bytes(6), 1));
  assert.deepEqual(drain(q), [6, 1]);
  assert.equal(q.inUse, 0);
  assert.throws(() => q.push(bytes(1, 2, 3, 4, 5), 0), /datagram of 5 bytes, slots hold 4/);
});

Deno.test("delay queue pops what a sorted list would, through many interleaved pushes and pops", () => {
  const q = new DelayQueue(64, 4);
  const ref: { due: number; id: number }[] = [];
  const dv = new DataView(new ArrayBuffer(4));
  let x = 12345, id = 0, popped = 0;
  for (let i = 0; i < 20_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    if (q.size < 64 && (x & 0x100) === 0) {
      const due = (x >>> 8) % 50; // many ties
      dv.setUint32(0, id);
      assert.ok(q.push(new Uint8Array(dv.buffer), due));
      ref.push({ due, id: id++ });
    } else {
      const s = q.pop();
      if (s < 0) {
        assert.equal(ref.length, 0);
        continue;
      }
      ref.sort((a, b) => a.due - b.due || a.id - b.id);
      const want = ref.shift()!;
      const got = q.data(s);
      assert.equal(new DataView(got.buffer, got.byteOffset).getUint32(0), want.id);
      assert.equal(q.dueOf(s), want.due);
      q.release(s);
      popped++;
    }
  }
  assert.ok(popped > 5000, `${popped} popped`);
});
