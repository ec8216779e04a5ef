import assert from "node:assert/strict";
import { AlsaOpener } from "../audio/alsa_opener.ts";
import type { Period } from "../audio/source.ts";
import { type Config, DEFAULT_CONFIG } from "../config/types.ts";
import { systemClock } from "../util/clock.ts";
import { getLogger } from "../util/log.ts";
import { FLOW_HEARTBEAT_MS, WorkerAudioPlane } from "./worker_plane.ts";

const cfg: Config = { ...structuredClone(DEFAULT_CONFIG), config_version: 1 };

Deno.test("on the worker plane the capture controller's sink sees that audio flows (empty periods), never the audio", async () => {
  const plane = await WorkerAudioPlane.open({
    sender: "sendmmsg",
    hostname: "127.0.0.1",
    port: 0,
    cfg,
    resample: false,
    opus: false,
    clock: systemClock,
    log: getLogger("test"),
  });
  try {
    assert.ok(plane.sender.localPort > 0, "the worker bound the UDP socket");
    const [candidate] = plane.candidates("test", cfg, new AlsaOpener(systemClock, getLogger("t")));
    const src = candidate.create();
    const seen: Period[] = [];
    const fmt = await src.start((p) => seen.push({ ...p }), { onFault: () => {} });
    assert.equal(fmt.channels, 32);
    const until = Date.now() + 5000;
    while (seen.length < 3 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, FLOW_HEARTBEAT_MS));
    }
    assert.ok(seen.length >= 3, `${seen.length} flow notices`);
    for (const p of seen) {
      assert.equal(p.frames, 0);
      assert.equal(p.data.length, 0);
      assert.equal(p.sampleRate, 48000);
      assert.equal(p.channels, 32);
    }
    await src.stop();
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 3 * FLOW_HEARTBEAT_MS));
    assert.equal(seen.length, n, "nothing after stop");
  } finally {
    await plane.close();
  }
});
