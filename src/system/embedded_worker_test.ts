import assert from "node:assert/strict";
import { embedWorker, isWorkerEmbedded, workerUrl } from "./embedded_worker.ts";

Deno.test("a worker runs from its source file until embedded code is registered, then from a blob: URL", async () => {
  const src = new URL("./nonexistent_worker.ts", import.meta.url);
  assert.equal(workerUrl("test_worker", src), src);
  assert.equal(isWorkerEmbedded("test_worker"), false);
  embedWorker("test_worker", "self.onmessage = (e) => self.postMessage(e.data * 2);");
  const url = workerUrl("test_worker", src);
  assert.match(String(url), /^blob:/);
  assert.equal(workerUrl("test_worker", src), url, "one URL per worker");
  const w = new Worker(url, { type: "module" });
  try {
    const answer = new Promise((r) => (w.onmessage = (e) => r(e.data)));
    w.postMessage(21);
    assert.equal(await answer, 42);
  } finally {
    w.terminate();
  }
});
