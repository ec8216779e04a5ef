import assert from "node:assert/strict";
import { installTimerProbe } from "./timer_probe.ts";

Deno.test("timer probe counts a timeout until it fires and an interval until it is cleared", async () => {
  const probe = installTimerProbe();
  try {
    const base = probe.live();
    let fired = false;
    setTimeout(() => (fired = true), 1);
    const iv = setInterval(() => {}, 1000);
    const cleared = setTimeout(() => {}, 1000);
    assert.equal(probe.live(), base + 3);
    clearTimeout(cleared);
    assert.equal(probe.live(), base + 2);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fired, true);
    assert.equal(probe.live(), base + 1, "the fired timeout is no longer live");
    clearInterval(iv);
    assert.equal(probe.live(), base);
  } finally {
    probe.uninstall();
  }
});

Deno.test("this process's threads and open file descriptors are read from /proc", async () => {
  const { procOpenFds, procThreads } = await import("./proc_stats.ts");
  const fds0 = procOpenFds(Deno.pid)!;
  const threads = procThreads(Deno.pid)!;
  assert.ok(threads >= 1, `threads ${threads}`);
  const f = await Deno.open(Deno.execPath());
  try {
    assert.equal(procOpenFds(Deno.pid), fds0 + 1, "an opened file is one more descriptor");
  } finally {
    f.close();
  }
  assert.equal(procOpenFds(Deno.pid), fds0);
  assert.equal(procThreads(999_999_999), null);
});
