import assert from "node:assert/strict";
import { CaptureController } from "./capture.ts";
import type { PeriodSink, Source, SourceFormat, SourceKind, SourceListener } from "./source.ts";
import { getLogger } from "../util/log.ts";

class ScriptedSource implements Source {
  static opened = 0;
  listener: SourceListener | null = null;
  stopped = false;
  constructor(readonly kind: SourceKind, private readonly fail: () => string | null) {}
  start(_sink: PeriodSink, listener: SourceListener): Promise<SourceFormat> {
    const why = this.fail();
    if (why) return Promise.reject(new Error(why));
    ScriptedSource.opened++;
    this.listener = listener;
    return Promise.resolve({
      channels: 32,
      sampleRate: 48000,
      framesPerPeriod: 240,
      description: this.kind,
    });
  }
  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}

const quiet = getLogger("test");

Deno.test("auto falls back to the test signal when the console cannot open", async () => {
  const c = new CaptureController({
    candidates: () => [
      { kind: "alsa", create: () => new ScriptedSource("alsa", () => "no such device") },
      { kind: "test", create: () => new ScriptedSource("test", () => null) },
    ],
    sink: () => {},
    log: quiet,
  });
  await c.start();
  assert.equal(c.status.source, "test");
  assert.equal(c.status.state, "running");
  await c.stop();
  assert.equal(c.status.state, "idle");
});

Deno.test("a fault puts capture in error and it retries the same device until it returns", async () => {
  let plugged = true;
  const made: ScriptedSource[] = [];
  const statuses: string[] = [];
  const c = new CaptureController({
    candidates: () => [{
      kind: "alsa",
      create: () => {
        const s = new ScriptedSource("alsa", () => (plugged ? null : "unplugged"));
        made.push(s);
        return s;
      },
    }, { kind: "test", create: () => new ScriptedSource("test", () => null) }],
    sink: () => {},
    log: quiet,
    retryMs: 10,
    onStatus: (s) => statuses.push(`${s.source}:${s.state}`),
  });
  await c.start();
  plugged = false;
  made[0].listener!.onFault(new Error("device vanished"));
  assert.equal(c.status.state, "error");
  assert.equal(c.status.error, "device vanished");
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(c.status.state, "error", "still unplugged");
  assert.equal(c.status.source, "alsa", "never swaps the console for the test tone mid-show");
  plugged = true;
  const state = () => c.status.state as string;
  for (let i = 0; i < 50 && state() !== "running"; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(state(), "running");
  assert.equal(c.status.faults, 1);
  assert.ok(made[0].stopped);
  await c.stop();
  assert.deepEqual(statuses.slice(0, 2), ["alsa:running", "alsa:error"]);
  assert.equal(statuses.at(-1), "alsa:idle");
});
