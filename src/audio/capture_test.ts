import assert from "node:assert/strict";
import { CaptureController, type CaptureOptions, RUNNING_WINDOW_MS } from "./capture.ts";
import type { Period, PeriodSink, Source, SourceFormat, SourceListener } from "./source.ts";
import type { LogFields, Logger } from "../util/log.ts";
import { ManualClock } from "../util/clock.ts";
import { FAKE_PERIOD_MS, FakeDevice, run, settle } from "../../tests/helpers/fake_source.ts";

/** A logger that keeps its lines for the test to read. */
function recordingLog(): Logger & { lines: { level: string; msg: string; f: LogFields }[] } {
  const lines: { level: string; msg: string; f: LogFields }[] = [];
  const at = (level: string) => (msg: string, f: LogFields = {}) => lines.push({ level, msg, f });
  const log = {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => log,
  };
  return log;
}

function controller(
  clock: ManualClock,
  devices: FakeDevice[],
  extra: Partial<CaptureOptions> = {},
): CaptureController {
  return new CaptureController({
    candidates: () => devices.map((d) => ({ kind: d.kind, create: d.create })),
    sink: () => {},
    log: recordingLog(),
    clock,
    timers: clock,
    retryMs: 1000,
    ...extra,
  });
}

/** A source whose open the test completes by hand. */
class DeferredSource implements Source {
  readonly kind = "alsa" as const;
  sink: PeriodSink | null = null;
  stopped = false;
  resolve!: (f: SourceFormat) => void;
  start(sink: PeriodSink, _l: SourceListener): Promise<SourceFormat> {
    this.sink = sink;
    return new Promise((r) => (this.resolve = r));
  }
  stop(): Promise<void> {
    this.stopped = true;
    this.sink = null;
    return Promise.resolve();
  }
}

Deno.test("leave and rejoin while the device opens: the client ends with audio flowing", async () => {
  const made: DeferredSource[] = [];
  let received = 0;
  const c = new CaptureController({
    candidates: () => [{
      kind: "alsa",
      create: () => {
        const s = new DeferredSource();
        made.push(s);
        return s;
      },
    }],
    sink: () => received++,
    log: recordingLog(),
  });
  void c.start(); // a client joins: the open is in flight
  await settle();
  void c.stop(); // it leaves while the device opens
  await settle();
  void c.start(); // and rejoins before the open finished
  await settle();
  made[0].resolve({ channels: 32, sampleRate: 48000, framesPerPeriod: 240, description: "d" });
  await settle();
  const live = made.filter((s) => !s.stopped);
  assert.equal(live.length, 1, "exactly one source open for the client that streams");
  const period: Period = {
    data: new Int32Array(32),
    frames: 1,
    channels: 32,
    sampleRate: 48000,
    frameIndex: 0,
    captureTimeMs: 0,
  };
  live[0].sink?.(period);
  assert.equal(received, 1, "audio reaches the engine");
  assert.equal(c.status.state, "running");
  await c.stop();
  assert.equal(made.filter((s) => !s.stopped).length, 0, "the last leave closes the device");
  assert.equal(c.status.state, "idle");
});

Deno.test("auto falls back to the test signal when the console cannot open", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa");
  alsa.failOpen = "no such device";
  const test = new FakeDevice(clock, "test");
  const c = controller(clock, [alsa, test]);
  void c.start();
  await run(clock, 3 * FAKE_PERIOD_MS);
  assert.equal(c.status.source, "test");
  assert.equal(c.status.state, "running");
  void c.stop();
  await run(clock, 0);
  assert.equal(c.status.state, "idle");
  assert.equal(test.open, 0);
});

Deno.test("a fault puts capture in error and it retries the same device until it returns", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa");
  const test = new FakeDevice(clock, "test");
  const statuses: string[] = [];
  const c = controller(clock, [alsa, test], {
    onStatus: (s) => statuses.push(`${s.source}:${s.state}`),
  });
  void c.start();
  await run(clock, 3 * FAKE_PERIOD_MS);
  assert.equal(c.status.state, "running");
  alsa.failOpen = "unplugged";
  alsa.delivering()!.fault("device vanished");
  await settle();
  assert.equal(c.status.state, "error");
  assert.equal(c.status.error, "device vanished");
  await run(clock, 5000);
  assert.equal(c.status.state, "error", "still unplugged");
  assert.ok(alsa.opens >= 5, `retried every second (${alsa.opens} opens)`);
  assert.equal(c.status.source, "alsa", "never swaps the console for the test tone mid-show");
  assert.equal(test.opens, 0);
  alsa.failOpen = null;
  await run(clock, 1000 + 3 * FAKE_PERIOD_MS);
  assert.equal(c.status.state, "running");
  assert.equal(c.status.faults, 1);
  void c.stop();
  await run(clock, 0);
  assert.equal(alsa.open, 0);
  assert.deepEqual(statuses.slice(0, 3), ["alsa:starting", "alsa:running", "alsa:error"]);
  assert.equal(statuses.at(-1), "alsa:idle");
});

Deno.test("a stalled device (opens, delivers nothing) polled for 8 s never reports running", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa");
  alsa.stalled = true;
  const c = controller(clock, [alsa]);
  void c.start();
  await run(clock, 0);
  assert.equal(c.status.state, "starting", "opened, no audio yet");
  const polls: string[] = [];
  for (let t = 0; t < 8000; t += 250) {
    // The ALSA source faults itself after its stuck time (2 s); the controller reopens it.
    if (t % 2000 === 1750) alsa.sources.find((s) => !s.stopped)?.fault("no audio for 2000 ms");
    await run(clock, 250);
    polls.push(c.status.state);
  }
  assert.ok(!polls.includes("running"), polls.join(" "));
  assert.deepEqual(polls.slice(0, 4), ["starting", "starting", "starting", "starting"]);
  assert.ok(
    polls.slice(4).every((s) => s === "error"),
    `silent for over a second, then reopened silent: error (${polls.join(" ")})`,
  );
  assert.ok(alsa.opens >= 4, `reopened while stalled (${alsa.opens} opens)`);
});

Deno.test("running turns to error one second after periods stop, and back when they resume", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa");
  const c = controller(clock, [alsa]);
  void c.start();
  await run(clock, 0);
  assert.equal(c.status.state, "starting");
  await run(clock, FAKE_PERIOD_MS);
  assert.equal(c.status.state, "running");
  alsa.stalled = true;
  await run(clock, RUNNING_WINDOW_MS);
  assert.equal(c.status.state, "running", "a period within the last second");
  await run(clock, FAKE_PERIOD_MS);
  assert.equal(c.status.state, "error");
  assert.match(c.status.error, /no audio for 10\d\d ms/);
  alsa.stalled = false;
  await run(clock, FAKE_PERIOD_MS);
  assert.equal(c.status.state, "running");
  assert.equal(c.status.error, "");
});

Deno.test("an open device that never delivers is starting for one second, then error", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa");
  alsa.stalled = true;
  const c = controller(clock, [alsa]);
  void c.start();
  await run(clock, RUNNING_WINDOW_MS);
  assert.equal(c.status.state, "starting");
  await run(clock, 1);
  assert.equal(c.status.state, "error");
});

Deno.test("a throwing sink is logged once with its stack, counted, and the next periods still flow", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa");
  const log = recordingLog();
  let calls = 0;
  const c = controller(clock, [alsa], {
    log,
    sink: () => {
      calls++;
      throw new Error("boom");
    },
  });
  void c.start();
  await run(clock, 100 * FAKE_PERIOD_MS);
  assert.equal(calls, 100, "every period reached the sink");
  assert.equal(c.status.sinkErrors, 100);
  assert.equal(c.status.state, "running");
  const threw = log.lines.filter((l) => /sink/.test(l.msg));
  assert.equal(threw.length, 1, "logged once");
  assert.match(String(threw[0].f.stack), /boom/);
  await run(clock, 20_000);
  const summaries = log.lines.filter((l) => /sink/.test(l.msg)).slice(1);
  assert.equal(summaries.length, 2, "a summary at most every 10 s");
  assert.ok(Number(summaries[0].f.sink_errors) > 100);
  assert.equal(
    Number(summaries[1].f.sink_errors) - Number(summaries[0].f.sink_errors),
    summaries[1].f.since_last_summary,
  );
});

Deno.test("restart closes the open device and reopens it for the new configuration", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa");
  alsa.openDelayMs = 30;
  alsa.stopDelayMs = 10;
  const c = controller(clock, [alsa]);
  void c.start();
  await run(clock, 100);
  void c.restart();
  await run(clock, 100);
  assert.equal(alsa.opens, 2);
  assert.equal(alsa.maxOpen, 1, "the old device closed before the new one opened");
  assert.equal(c.status.state, "running");
  void c.stop();
  void c.restart(); // a change while idle opens nothing
  await run(clock, 100);
  assert.equal(alsa.opens, 2);
  assert.equal(alsa.open, 0);
});

Deno.test("a slow open (1.5 s) is starting until its first period, never error: the silent second counts from the open", async () => {
  const clock = new ManualClock();
  const alsa = new FakeDevice(clock, "alsa", 100); // first period 100 ms after the open
  alsa.openDelayMs = 1500;
  const c = controller(clock, [alsa]);
  void c.start();
  const seen = new Set<string>();
  for (let t = 0; t < 1500 + 100; t += 10) {
    await run(clock, 10);
    seen.add(c.status.state);
  }
  await run(clock, 10);
  assert.equal(c.status.state, "running");
  assert.deepEqual([...seen].filter((s) => s !== "running"), ["starting"]);
});
