/**
 * A start that fails half-way leaves nothing behind: every part opened before
 * the failure is closed again, in reverse order (src/server.ts's closers).
 * Deno's sanitizers (on by default) fail this test on a leaked Deno resource;
 * intervals, the RTP port and the database file are checked directly.
 */
import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { logConfig } from "../src/util/log.ts";
import { freePort } from "./helpers/server.ts";

/** Paths this process holds open (Linux: /proc/self/fd). */
function openFiles(): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      out.push(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch {
      // closed between listing and reading
    }
  }
  return out;
}

/** Counts the intervals started and not cleared while installed (the test sanitizers let intervals pass). */
function trackIntervals() {
  type Id = ReturnType<typeof setInterval>;
  const live = new Set<Id>();
  const set = globalThis.setInterval;
  const clear = globalThis.clearInterval;
  globalThis.setInterval = ((fn: () => void, ms?: number) => {
    const id = set(fn, ms);
    live.add(id);
    return id;
  }) as typeof setInterval;
  globalThis.clearInterval = ((id: Id) => {
    live.delete(id);
    clear(id);
  }) as typeof clearInterval;
  return {
    live,
    restore() {
      globalThis.setInterval = set;
      globalThis.clearInterval = clear;
      for (const id of live) clear(id);
    },
  };
}

Deno.test("a start whose HTTP port is taken rejects and closes the RTP socket, the database and every timer", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-startup-" });
  const logs: string[] = [];
  logConfig.write = (line) => logs.push(line);
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const httpPort = (taken.addr as Deno.NetAddr).port;
  const rtpPort = freePort();
  const intervals = trackIntervals();
  try {
    await assert.rejects(
      startServer({ httpPort, rtpPort, hostname: "127.0.0.1", dataDir, source: "test" }),
      (e: Error) => e instanceof Deno.errors.AddrInUse,
    );
    assert.equal(intervals.live.size, 0, "intervals left running");
    // The RTP port is free again.
    const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: rtpPort });
    udp.close();
    // No descriptor on the database (or its WAL) is left open, and it opens for write.
    const db = `${dataDir}/m32-server.sqlite`;
    assert.deepEqual(openFiles().filter((p) => p.startsWith(db)), []);
    const { DatabaseSync } = await import("node:sqlite");
    const other = new DatabaseSync(db);
    other.exec(
      "BEGIN EXCLUSIVE; UPDATE meta SET value = value WHERE key = 'config_version'; COMMIT",
    );
    other.close();
    assert.ok(logs.some((l) => l.includes("start failed")), "the failure is logged once");
  } finally {
    intervals.restore();
    taken.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a start whose RTP port is taken rejects and leaves neither the database nor the HTTP port open", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-startup-" });
  logConfig.write = () => {};
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const rtpPort = (taken.addr as Deno.NetAddr).port;
  const httpPort = freePort();
  const intervals = trackIntervals();
  try {
    await assert.rejects(
      startServer({ httpPort, rtpPort, hostname: "127.0.0.1", dataDir, source: "test" }),
    );
    assert.equal(intervals.live.size, 0, "intervals left running");
    assert.deepEqual(openFiles().filter((p) => p.startsWith(`${dataDir}/`)), []);
    Deno.listen({ hostname: "127.0.0.1", port: httpPort }).close();
  } finally {
    intervals.restore();
    taken.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
