/**
 * The reference client as a listener, against the real server's `tone` test
 * signal (channel id × 100 Hz at −20 dBFS): settings from a file choose the
 * channels and pan them, the stereo mix lands in a WAV file (and on an ALSA
 * `file` PCM), and the expected tones are on the expected sides. Plus the
 * automatic reconnect when the server restarts on the same port.
 */

import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { runClientCli } from "../src/client/cli.ts";
import { ReferenceClient } from "../src/client/session.ts";
import { settingsKey } from "../src/client/settings.ts";
import { openUdpSource } from "../src/client/udp_source.ts";
import { parseWav } from "../src/client/wav.ts";
import { logConfig } from "../src/util/log.ts";
import { tonePower } from "./helpers/tone_power.ts";

logConfig.write = (line) => {
  if (Deno.env.get("M32_TEST_LOGS")) console.error(line);
};

type Server = Awaited<ReturnType<typeof startServer>>;

async function start(dataDir: string, httpPort = 0): Promise<Server> {
  return await startServer({
    httpPort,
    rtpPort: 0,
    dataDir,
    source: "test",
    hostname: "127.0.0.1",
  });
}

async function until(what: string, cond: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("client mixes the channels its settings file names into a WAV and an ALSA file PCM, panned as stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m32-client-out-" });
  const srv = await start(dir);
  try {
    srv.ctx.store.patch({ audio: { test_mode: "tone" } });
    const settingsPath = `${dir}/settings.json`;
    const key = settingsKey(new URL(srv.url).host);
    const ch = (id: number, pan: number) => ({ id, pan, volume: 1, name: `T${id}` });
    await Deno.writeTextFile(
      settingsPath,
      JSON.stringify({
        [key]: {
          server: new URL(srv.url).host,
          master: { volume: 1, limit: true },
          channels: [ch(2, -1), ch(5, 1)],
        },
      }),
    );
    const wavPath = `${dir}/mix.wav`;
    const rawPath = `${dir}/mix.raw`;
    const out: string[] = [];
    const err: string[] = [];
    const code = await runClientCli(
      ["--server", srv.url, "--udp-port", "0", "--duration", "2", "--json"]
        .concat(["--settings", settingsPath, "--out", wavPath, "--bits", "24"])
        .concat(["--play", `file:FILE=${rawPath},FORMAT=raw`]),
      { env: () => undefined, stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
    );
    assert.equal(code, 0, err.join("\n"));
    const s = JSON.parse(out[out.length - 1]);
    assert.deepEqual(s.channels, [2, 5], "the settings file chose the channels");
    const wav = parseWav(await Deno.readFile(wavPath));
    assert.equal(wav.channels, 2);
    assert.equal(wav.bits, 24);
    assert.equal(wav.sampleRate, s.sample_rate);
    assert.ok(wav.frames > wav.sampleRate * 0.8, `${wav.frames} frames in 1.5 s`);
    const from = Math.floor(wav.frames / 3); // past the start-up silence
    const rate = wav.sampleRate;
    const l200 = tonePower(wav.samples, 2, 0, from, 200, rate);
    const l500 = tonePower(wav.samples, 2, 0, from, 500, rate);
    const r200 = tonePower(wav.samples, 2, 1, from, 200, rate);
    const r500 = tonePower(wav.samples, 2, 1, from, 500, rate);
    // −20 dBFS = amplitude 0.1 → power 0.01; hard pan puts all of it on one side.
    assert.ok(l200 > 0.004 && l200 < 0.015, `200 Hz left ${l200}`);
    assert.ok(r500 > 0.004 && r500 < 0.015, `500 Hz right ${r500}`);
    assert.ok(l500 < l200 / 30 && r200 < r500 / 30, `leaks ${l500} ${r200}`);
    // The ALSA file PCM got the same mix (float32 stereo).
    const raw = await Deno.readFile(rawPath);
    const f = new Float32Array(raw.buffer, 0, Math.floor(raw.length / 4));
    const rawFrom = Math.floor(f.length / 6);
    assert.ok(tonePower(f, 2, 0, rawFrom, 200, rate) > 0.005, "ALSA output carries the left tone");
    // Settings were saved back with the stored values kept.
    const saved = JSON.parse(await Deno.readTextFile(settingsPath))[key];
    assert.deepEqual(saved.channels.map((c: { id: number; pan: number }) => [c.id, c.pan]), [[
      2,
      -1,
    ], [5, 1]]);
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client plays a stereo-linked pair by its width and a group by its fader, as the page does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m32-client-link-" });
  const srv = await start(dir);
  try {
    srv.ctx.store.patch({ audio: { test_mode: "tone" } });
    const settingsPath = `${dir}/settings.json`;
    const key = settingsKey(new URL(srv.url).host);
    await Deno.writeTextFile(
      settingsPath,
      JSON.stringify({
        [key]: {
          server: new URL(srv.url).host,
          master: { volume: 1, limit: false },
          channels: [
            // 2/3 a pair at full width: 2 left, 3 right (3's own pan, left, is not used).
            { id: 2, pan: 0, volume: 1, link: { with: 3, width: 1, balance: 0 } },
            { id: 3, pan: -1, volume: 0.1 },
            { id: 5, pan: 0, volume: 1 },
          ],
          groups: [{ id: 1, name: "Off", members: [5], volume: 0, mute: false }],
        },
      }),
    );
    const wavPath = `${dir}/mix.wav`;
    const err: string[] = [];
    const code = await runClientCli(
      ["--server", srv.url, "--udp-port", "0", "--duration", "4"] // 2 s can be mostly start-up
        .concat(["--settings", settingsPath, "--out", wavPath]),
      { env: () => undefined, stdout: () => {}, stderr: (l) => err.push(l) },
    );
    assert.equal(code, 0, err.join("\n"));
    const wav = parseWav(await Deno.readFile(wavPath));
    const from = Math.floor(wav.frames / 3);
    const p = (ch: number, hz: number) => tonePower(wav.samples, 2, ch, from, hz, wav.sampleRate);
    // −20 dBFS = power 0.01 on one side when hard panned; the pair's level is 2's (unity).
    assert.ok(p(0, 200) > 0.004 && p(0, 200) < 0.015, `200 Hz left ${p(0, 200)}`);
    assert.ok(p(1, 300) > 0.004 && p(1, 300) < 0.015, `300 Hz right ${p(1, 300)}`);
    assert.ok(p(1, 200) < p(0, 200) / 30 && p(0, 300) < p(1, 300) / 30, "the pair is split L/R");
    const off = Math.max(p(0, 500), p(1, 500));
    // Unity in the centre it would be 0.005 a side; the floor (Opus, the other tones) is ~1e-5.
    assert.ok(off < p(0, 200) / 100, `channel 5, its group fader at 0: ${off}`);
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client reconnects by itself when the server restarts on the same port", async () => {
  const dirA = await Deno.makeTempDir({ prefix: "m32-client-rs-" });
  const dirB = await Deno.makeTempDir({ prefix: "m32-client-rs-" });
  let srv = await start(dirA);
  const port = srv.httpPort;
  const lines: string[] = [];
  const c = new ReferenceClient({
    server: srv.url,
    udp: openUdpSource(0, "127.0.0.1"),
    channels: [1, 32],
    log: (l) => lines.push(l),
    backoffInitialMs: 50,
    backoffMaxMs: 400,
  }).start();
  try {
    await until("first stream", () => c.receiver.seq.received >= 50);
    const firstSsrc = c.ack!.ssrc;
    await srv.close();
    await until("the client to notice", () => c.ack === null);
    srv = await start(dirB, port);
    await until("a stream from the new server", () => c.ack !== null && c.ack.ssrc !== firstSsrc);
    const before = c.receiver.seq.received;
    await until("packets from the new server", () => c.receiver.seq.received >= before + 50);
  } finally {
    await c.stop();
    await srv.close();
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
  const s = c.summary();
  assert.equal(s.reconnects, 1);
  assert.ok(s.reconnect_attempts >= 1);
  assert.deepEqual(s.values, { "1": 1, "32": 32 });
  assert.ok(lines.some((l) => l.includes("server_shutdown")), lines.join("\n"));
});
