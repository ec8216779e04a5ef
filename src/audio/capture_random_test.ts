/**
 * The capture controller under a seeded random storm of joins, leaves,
 * configuration changes, device faults, unplugs, slow and failing opens and
 * slow stops, on a ManualClock. After every operation:
 *   - never two sources open at once;
 *   - no client (for longer than an open and two stops take) ⇒ the device is closed;
 *   - a client streams and a source is up ⇒ audio reached the sink within 2 periods;
 *   - a client streams and the device works (for longer than a failed open, a
 *     retry and an open take) ⇒ audio flows;
 *   - /health says `running` only if audio arrived within the last second.
 */
import assert from "node:assert/strict";
import { CaptureController, RUNNING_WINDOW_MS } from "./capture.ts";
import { ManualClock, SeededRandom } from "../util/clock.ts";
import { getLogger, logConfig } from "../util/log.ts";
import { FAKE_PERIOD_MS, FakeDevice, run } from "../../tests/helpers/fake_source.ts";

const OPERATIONS = 10_000;
const RETRY_MS = 200;
const MAX_OPEN_MS = 60;
const MAX_STOP_MS = 20;
/** A failed open in flight, a retry wait, the reopen, and the stops queued before them. */
const SETTLE_MS = 2 * MAX_OPEN_MS + RETRY_MS + 3 * MAX_STOP_MS + 2 * FAKE_PERIOD_MS;
const CLOSE_MS = MAX_OPEN_MS + 2 * MAX_STOP_MS;

Deno.test(`${OPERATIONS} random joins, leaves, reconfigurations, faults and slow or failing opens never leave a streaming client silent`, async () => {
  const level = logConfig.level;
  logConfig.level = "error";
  const rnd = new SeededRandom(0x5eed1234);
  const pick = (n: number) => rnd.u32() % n;
  const clock = new ManualClock();
  const dev = new FakeDevice(clock, "alsa");
  let lastSinkMs = -Infinity;
  const c = new CaptureController({
    candidates: () => [{ kind: "alsa", create: dev.create }],
    sink: () => (lastSinkMs = clock.now()),
    log: getLogger("capture"),
    clock,
    timers: clock,
    retryMs: RETRY_MS,
  });
  let clients = 0;
  /** Since when clients stream and nothing disturbed the device. */
  let calmSince = clock.now();
  let emptySince = clock.now();
  const counts: Record<string, number> = {};
  /** How often each invariant applied (so the test cannot pass by checking nothing). */
  const checks = { closed: 0, up: 0, settled: 0 };
  try {
    for (let i = 0; i < OPERATIONS; i++) {
      const r = pick(100);
      const now = clock.now();
      let op: string;
      // Joins and leaves keep 0–3 clients, so the last one leaves often.
      if (r < 55 && pick(4) > clients) {
        op = "join";
        if (clients++ === 0) calmSince = now;
      } else if (r < 55) {
        op = "leave";
        if (--clients === 0) emptySince = now;
      } else if (r < 62) {
        op = "reconfigure";
        void c.restart();
        calmSince = now;
      } else if (r < 70) {
        op = "fault";
        dev.delivering()?.fault("device vanished");
        calmSince = now;
      } else if (r < 75) {
        op = "unplug";
        dev.failOpen = "unplugged";
        dev.delivering()?.fault("device unplugged");
      } else if (r < 82) {
        op = "replug";
        if (dev.failOpen !== null) calmSince = now;
        dev.failOpen = null;
      } else {
        op = "timing";
        dev.openDelayMs = pick(MAX_OPEN_MS + 1);
        dev.stopDelayMs = pick(MAX_STOP_MS + 1);
      }
      counts[op] = (counts[op] ?? 0) + 1;
      // What the server does on every change of the streaming set (syncCapture).
      if (op === "join" || op === "leave") void (clients > 0 ? c.start() : c.stop());
      await run(clock, pick(8) === 0 ? 200 + pick(600) : pick(40));

      const t = clock.now();
      const at = `op ${i} (${op}) at +${t - 1_700_000_000_000} ms, ${clients} clients`;
      assert.ok(dev.maxOpen <= 1, `two sources open at once: ${at}`);
      if (clients === 0 && t - emptySince > CLOSE_MS) {
        assert.equal(dev.open, 0, `no client, device still open: ${at}`);
        assert.equal(c.status.state, "idle", at);
        checks.closed++;
      }
      const up = dev.delivering();
      if (clients > 0 && up && t - up.openedAtMs >= 2 * FAKE_PERIOD_MS) {
        assert.ok(t - lastSinkMs <= 2 * FAKE_PERIOD_MS, `source up, no audio: ${at}`);
        checks.up++;
      }
      if (clients > 0 && dev.failOpen === null && t - calmSince >= SETTLE_MS) {
        assert.ok(t - lastSinkMs <= 2 * FAKE_PERIOD_MS, `client silent: ${at}`);
        assert.equal(c.status.state, "running", at);
        checks.settled++;
      }
      if (c.status.state === "running") {
        assert.ok(t - lastSinkMs <= RUNNING_WINDOW_MS, `running without audio: ${at}`);
      }
    }
  } finally {
    logConfig.level = level;
  }
  for (const op of ["join", "leave", "reconfigure", "fault", "unplug", "replug", "timing"]) {
    assert.ok(counts[op] > 100, `${op} exercised (${JSON.stringify(counts)})`);
  }
  assert.ok(dev.opens > 1000, `${dev.opens} opens`);
  for (const [name, n] of Object.entries(checks)) {
    assert.ok(n > 500, `invariant "${name}" checked ${n} times (${JSON.stringify(checks)})`);
  }
});
