import assert from "node:assert/strict";
import { Closers } from "./closers.ts";
import { getLogger, logConfig } from "./log.ts";

Deno.test("closers run newest first, each once, and a throwing one does not stop the rest", async () => {
  const lines: string[] = [];
  logConfig.write = (l) => lines.push(l);
  const done: string[] = [];
  const c = new Closers(getLogger("test"));
  c.add("db", () => void done.push("db"));
  c.add("socket", () => {
    throw new Error("boom");
  });
  c.add("timer", async () => {
    await Promise.resolve();
    done.push("timer");
  });
  await Promise.all([c.closeAll(), c.closeAll()]);
  await c.closeAll();
  assert.deepEqual(done, ["timer", "db"]);
  assert.equal(lines.filter((l) => l.includes("closing failed")).length, 1);
  assert.match(lines.find((l) => l.includes("closing failed"))!, /socket/);
  assert.throws(() => c.add("late", () => {}), /already closing/);
});
