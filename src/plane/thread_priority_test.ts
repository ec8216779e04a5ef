import assert from "node:assert/strict";
import { AUDIO_NICE } from "./thread_priority.ts";

const WORKER = `
import { raiseThreadPriority } from ${
  JSON.stringify(new URL("./thread_priority.ts", import.meta.url).href)
};
self.postMessage(raiseThreadPriority());
self.close();
`;

function ownNice(): number {
  // /proc/thread-self/stat field 19 is the calling thread's nice value.
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

Deno.test("the audio thread's priority is its own: the calling thread gets the nice value, others keep theirs", async () => {
  const before = ownNice();
  const url = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  const r = await new Promise<{ nice: number | null; error?: string }>((res) => {
    w.onmessage = (e) => res(e.data);
  });
  w.terminate();
  URL.revokeObjectURL(url);
  if (r.error === undefined) assert.equal(r.nice, AUDIO_NICE);
  else assert.match(r.error, /not permitted|libc/, "a refusal says why");
  assert.equal(ownNice(), before, "the main thread's nice is untouched");
});
