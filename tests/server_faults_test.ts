/**
 * The server's own wiring keeps no promise unobserved: a capture start/stop
 * that rejects (a source whose stop fails) is logged, never an unhandled
 * rejection that ends the process (issue 12, finding 2).
 */
import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";
import { Probe } from "./helpers/probe.ts";
import type { Source, SourceFormat } from "../src/audio/source.ts";

/** An ALSA stand-in that opens fine and fails to close. */
class SourceFailingToStop implements Source {
  readonly kind = "alsa" as const;
  stops = 0;
  start(): Promise<SourceFormat> {
    return Promise.resolve({
      channels: 32,
      sampleRate: 48000,
      framesPerPeriod: 240,
      description: "fake console that fails to close",
    });
  }
  stop(): Promise<void> {
    this.stops++;
    return Promise.reject(new Error("snd_pcm_close: device or resource busy"));
  }
}

Deno.test("a capture stop that rejects when the last client leaves is logged and the server keeps serving", async () => {
  const sources: SourceFailingToStop[] = [];
  const srv = await startTestServer({
    source: "alsa",
    createAlsa: () => {
      const s = new SourceFailingToStop();
      sources.push(s);
      return s;
    },
  });
  try {
    const { probe } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    await probe.close();
    // Unhandled, the rejection would fail this test; handled, it is one log line.
    const line = await probe.until(
      "the failed capture stop in the log",
      () => srv.logs.find((l) => l.includes("device or resource busy")),
      3000,
    );
    assert.ok(sources.some((s) => s.stops > 0));
    // The capture controller contains a source's failed close: one warning, never a rejection.
    assert.match(line, /WARN .*audio source failed to stop/);
    const health = await fetch(`${srv.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await srv.stop();
  }
});
