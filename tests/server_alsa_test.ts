/**
 * The whole server capturing from the emulated M32 through real libasound:
 * exact values on the wire, unplug → error state → replug → streaming again
 * without a restart, and the device closed when the last client leaves.
 */
import assert from "node:assert/strict";
import { decodePcm, Probe } from "./helpers/probe.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { M32Emulator, writeEmulatorAlsaConfig } from "./m32_emulator.ts";
import type { SampleFormatName } from "../src/audio/sample_format.ts";

const FRAMES = 240; // one 5 ms packet time at 48 kHz: the period the server asks the device for

async function rig(name: string, format: SampleFormatName = "S32_LE", channels = 32) {
  const dir = await Deno.makeTempDir({ prefix: "m32srv_" });
  const fifo = `${dir}/m32.fifo`;
  const conf = await writeEmulatorAlsaConfig(dir, { pcmName: name, fifoPath: fifo, channels });
  Deno.env.set("ALSA_CONFIG_PATH", conf);
  const emu = new M32Emulator({
    fifoPath: fifo,
    channels,
    format,
    sampleRate: 48000,
    framesPerChunk: FRAMES,
    bufferPeriods: 4,
  });
  const srv: TestServer = await startTestServer({ source: "alsa", alsaDevice: name });
  const health = async () => await (await fetch(`${srv.url}/health`)).json();
  return {
    emu,
    srv,
    health,
    async cleanup() {
      emu.stop();
      await srv.stop();
      Deno.env.delete("ALSA_CONFIG_PATH");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** L24 from the emulator's S32 pattern: sign × (channel << 16 | frame & 0xffff). */
function channelOf(v: number): number {
  return Math.abs(v) >> 16;
}

Deno.test("the server streams the console's channels exactly, unplug shows an error and replug resumes without a restart", async () => {
  const r = await rig("m32srv_main");
  try {
    assert.equal((await r.health()).source_state, "idle");
    assert.equal((await (await fetch(`${r.srv.url}/audio-meta`)).json()).test_mode, false);
    const started = r.emu.start(); // resolves once the server opens the device
    const { probe } = await Probe.streaming(r.srv.url, {
      channels: [{ id: 2 }, { id: 7 }, { id: 32 }],
    });
    await started;
    const pkts = await probe.waitPackets(40);
    for (const p of pkts.slice(5, 40)) {
      const frames = decodePcm(p, 3, 3);
      for (const f of frames) {
        assert.deepEqual(f.map(channelOf), [2, 7, 32]);
        assert.ok(f[0] < 0 && f[1] > 0 && f[2] < 0, "signs survive (even channels negative)");
      }
      for (let i = 1; i < frames.length; i++) {
        assert.equal(Math.abs(frames[i][1]) & 0xffff, (Math.abs(frames[i - 1][1]) + 1) & 0xffff);
      }
    }
    const h = await r.health();
    assert.equal(h.source, "alsa");
    assert.equal(h.source_state, "running");
    assert.equal(h.sink_errors, 0);
    assert.match(h.source_description, /32 ch/);

    // unplug
    r.emu.stop();
    const warn = await probe.next("event", 8000);
    assert.equal((warn.payload as Record<string, unknown>).type, "network_warning");
    await probe.until("error state", () => r.srv.ctx.capture.status.state === "error", 8000);
    const hErr = await r.health();
    assert.equal(hErr.source_state, "error");
    assert.equal(hErr.status, "degraded");
    assert.ok(hErr.source_error.length > 0);

    // replug: streaming resumes for the same session. (A reopen that finds the FIFO
    // without its writer reads EOF, whose instant periods fault it again: the
    // retry after that one is the resumption, so wait for the state, then for audio.)
    await r.emu.start();
    await probe.until("running again", () => r.srv.ctx.capture.status.state === "running", 15000);
    const before = probe.packets.length;
    await probe.waitPackets(before + 40, 15000);
    assert.equal((await r.health()).source_state, "running");
    const last = probe.packets[probe.packets.length - 1];
    assert.deepEqual(decodePcm(last, 3, 3)[0].map(channelOf), [2, 7, 32]);
    assert.equal(probe.closeCode, null, "the session survived the unplug");

    // the last client leaving closes the device
    await probe.close();
    await probe.until("idle", () => r.srv.ctx.capture.status.state === "idle", 5000);
  } finally {
    await r.cleanup();
  }
});

Deno.test("the console's 16-channel USB mode maps only the channels that exist", async () => {
  const r = await rig("m32srv_16", "S32_LE", 16);
  try {
    const started = r.emu.start();
    const { probe } = await Probe.streaming(r.srv.url, { channels: [{ id: 1 }, { id: 16 }] });
    await started;
    const pkts = await probe.waitPackets(10);
    assert.deepEqual(decodePcm(pkts[9], 2, 3)[0].map(channelOf), [1, 16]);
    const meta = await (await fetch(`${r.srv.url}/audio-meta`)).json();
    assert.equal(meta.channels.length, 16, "channels 17–32 are not invented");
    probe.send({ type: "client_config", payload: { channels: [{ id: 20 }] } });
    const err = await probe.next("error");
    assert.match(String(err.message), /channel 20 is not mapped/);
    await probe.close();
  } finally {
    await r.cleanup();
  }
});

Deno.test("--source auto with no console falls back to the test signal, loudly, and /health says so", async () => {
  const srv = await startTestServer({ source: "auto", alsaDevice: "" });
  try {
    // Before any phone connects, the installer already sees what phones will get.
    const idle = await (await fetch(`${srv.url}/health`)).json();
    assert.equal(idle.source_state, "idle");
    assert.equal(idle.source, "test");
    assert.equal(idle.status, "degraded");
    assert.ok(srv.logs.some((l) => l.includes("WARN") && l.includes("no console found")));
    assert.equal((await (await fetch(`${srv.url}/audio-meta`)).json()).test_mode, true);
    const { probe } = await Probe.streaming(srv.url, { channels: [{ id: 5 }] });
    const [p] = await probe.waitPackets(1);
    assert.deepEqual(decodePcm(p, 1, 3)[0], [5], "the id test signal");
    const h = await (await fetch(`${srv.url}/health`)).json();
    assert.equal(h.source, "test");
    assert.equal(h.status, "degraded", "not the console");
    assert.match(h.alsa_detection, /no M32\/X32 USB card found/);
    assert.ok(srv.logs.some((l) => l.includes("WARN") && l.includes("TEST SIGNAL")));
    await probe.close();
  } finally {
    await srv.stop();
  }
});
