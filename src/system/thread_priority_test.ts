import assert from "node:assert/strict";
import { AUDIO_NICE, AUDIO_RT_PRIORITY, type PriorityRequest } from "../system/thread_priority.ts";

const WORKER = `
import { raiseThreadPriority } from ${
  JSON.stringify(new URL("../system/thread_priority.ts", import.meta.url).href)
};
const SCHED = (s) => s.slice(s.lastIndexOf(")") + 2).split(" ");
self.onmessage = (e) => {
  const got = raiseThreadPriority(e.data);
  const f = SCHED(Deno.readTextFileSync("/proc/thread-self/stat"));
  // stat fields 18 (priority), 19 (nice), 41 (policy), counted from field 3.
  self.postMessage({ got, nice: Number(f[16]), rtPriority: Number(f[37]), policy: Number(f[38]) });
  self.close();
};
`;

interface Seen {
  got: { policy: string; priority: number | null; error?: string };
  nice: number;
  rtPriority: number;
  policy: number;
}

function ownSched(): { nice: number; policy: number } {
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { nice: Number(f[16]), policy: Number(f[38]) };
}

async function inWorker(req: PriorityRequest): Promise<Seen> {
  const url = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  try {
    return await new Promise<Seen>((res) => {
      w.onmessage = (e) => res(e.data);
      w.postMessage(req);
    });
  } finally {
    w.terminate();
    URL.revokeObjectURL(url);
  }
}

Deno.test("the audio thread gets SCHED_FIFO where allowed, else says why; the main thread keeps its own", async () => {
  const before = ownSched();
  const r = await inWorker({});
  if (r.got.policy === "fifo") {
    assert.equal(r.policy, 1, "the kernel says SCHED_FIFO");
    assert.equal(r.rtPriority, AUDIO_RT_PRIORITY);
  } else {
    assert.match(r.got.error ?? "", /real-time not permitted/, "a refusal says why");
    assert.equal(r.policy, 0);
  }
  assert.deepEqual(ownSched(), before, "the main thread's policy and nice are untouched");
});

Deno.test("without real-time the audio thread lowers its nice value where allowed", async () => {
  const before = ownSched();
  const r = await inWorker({ realtime: false });
  assert.equal(r.policy, 0, "no real-time was asked for");
  if (r.got.policy === "nice") assert.equal(r.nice, AUDIO_NICE);
  else assert.match(r.got.error ?? "", /nice not permitted/);
  assert.deepEqual(ownSched(), before);
});
