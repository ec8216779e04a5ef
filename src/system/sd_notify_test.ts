import assert from "node:assert/strict";
import { formatNotify, SdNotifier, watchdogIntervalMs } from "./sd_notify.ts";
import { AF_UNIX, encodeSockaddrUn, SOCKADDR_UN_BYTES } from "./unix_datagram.ts";

const env = (vars: Record<string, string>) => ({ get: (k: string) => vars[k] });

Deno.test("watchdog pings at half of WATCHDOG_USEC, only for our own pid", () => {
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "30000000" }), 42), 15000);
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "200000", WATCHDOG_PID: "42" }), 42), 100);
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "200000", WATCHDOG_PID: "7" }), 42), null);
  assert.equal(watchdogIntervalMs(env({}), 42), null);
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "soon" }), 42), null);
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "0" }), 42), null);
});

Deno.test("a notification is newline-separated VAR=VALUE and values cannot inject lines", () => {
  assert.equal(formatNotify({ READY: 1, STATUS: "ok" }), "READY=1\nSTATUS=ok\n");
  assert.equal(formatNotify({ STATUS: "a\nWATCHDOG=1" }), "STATUS=a WATCHDOG=1\n");
});

Deno.test("sockaddr_un: a path ends in NUL, an abstract name starts with one", () => {
  const p = encodeSockaddrUn("/run/n");
  assert.equal(p.addr.length, SOCKADDR_UN_BYTES);
  assert.deepEqual([...p.addr.subarray(0, 9)], [AF_UNIX, 0, 0x2f, 0x72, 0x75, 0x6e, 0x2f, 0x6e, 0]);
  assert.equal(p.len, 2 + 6 + 1);
  const a = encodeSockaddrUn("@ab");
  assert.deepEqual([...a.addr.subarray(0, 6)], [AF_UNIX, 0, 0, 0x61, 0x62, 0]);
  assert.equal(a.len, 2 + 1 + 2);
  assert.throws(() => encodeSockaddrUn("relative"), /absolute or @abstract/);
  assert.throws(() => encodeSockaddrUn("/" + "x".repeat(200)), /at most 107 bytes, got 201/);
});

Deno.test("the notifier sends READY, watchdog pings and STOPPING, and counts failures without throwing", async () => {
  const sent: string[] = [];
  let fail = false;
  const errors: number[] = [];
  const n = new SdNotifier(
    {
      send: (m) => {
        if (fail) throw new Error("ECONNREFUSED");
        sent.push(m);
      },
      close: () => {},
    },
    10,
    (_e, count) => errors.push(count),
  );
  n.ready("serving");
  n.startWatchdog();
  await new Promise((r) => setTimeout(r, 60));
  n.stopping();
  n.stopWatchdog();
  assert.match(sent[0], /^READY=1\nSTATUS=serving\nMAINPID=\d+\n$/);
  assert.ok(sent.filter((m) => m === "WATCHDOG=1\n").length >= 2);
  assert.equal(sent.at(-1), "STOPPING=1\nSTATUS=shutting down\n");
  const count = sent.length;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(sent.length, count, "no pings after stopWatchdog");
  fail = true;
  n.status("x");
  n.status("y");
  assert.deepEqual(errors, [1, 2]);
  n.close();
});

Deno.test("without NOTIFY_SOCKET the notifier does nothing", () => {
  const n = new SdNotifier(null, 10);
  assert.equal(n.enabled, false);
  n.ready();
  n.startWatchdog();
  n.stopping();
  assert.equal(n.sent, 0);
  n.close();
});
