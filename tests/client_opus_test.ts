/**
 * The reference client decoding Opus against the real server's `tone` test
 * signal (channel id × 100 Hz at −20 dBFS): the CLI (libopus decoder
 * injected) writes the stereo mix to a WAV file and the channels' tones are
 * in it — once with all channels in one multistream packet, once with
 * `max_datagram_bytes` so small that each packet time is split into several
 * channel groups (docs/protocol.md §12), and once decoded at 24 kHz.
 */

import assert from "node:assert/strict";
import { runClientCli } from "../src/client/cli.ts";
import { parseWav } from "../src/client/wav.ts";
import { startTestServer } from "./helpers/server.ts";
import { tonePower } from "./helpers/tone_power.ts";

interface Run {
  summary: Record<string, unknown> & {
    channels: number[];
    channel_groups: number[][] | null;
    decoded_packets: number;
    decode_errors: number;
    undecoded_packets: number;
    packets_received: number;
    opus_concealed_groups: number;
    sample_rate: number;
    encoding: string;
  };
  /** Tone power (left + right) of a frequency in the mix's second half on. */
  power: (freq: number) => number;
  rate: number;
  log: string;
}

async function runOpusClient(
  opts: { channels: number[]; maxDatagramBytes?: number; sampleRate?: number },
): Promise<Run> {
  const srv = await startTestServer();
  const dir = await Deno.makeTempDir({ prefix: "m32-client-opus-" });
  try {
    srv.ctx.store.patch({ audio: { test_mode: "tone" } });
    if (opts.maxDatagramBytes !== undefined) {
      srv.ctx.store.patch({ audio: { max_datagram_bytes: opts.maxDatagramBytes } });
    }
    const wavPath = `${dir}/mix.wav`;
    const out: string[] = [];
    const err: string[] = [];
    const args = ["--server", srv.url, "--udp-port", "0", "--duration", "2", "--json"]
      .concat(["--settings", "none", "--compression", "opus", "--out", wavPath])
      .concat(["--channels", opts.channels.join(",")])
      .concat(opts.sampleRate ? ["--sample-rate", String(opts.sampleRate)] : []);
    const code = await runClientCli(args, {
      env: () => undefined,
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
    });
    assert.equal(code, 0, err.join("\n"));
    const summary = JSON.parse(out[out.length - 1]);
    const wav = parseWav(await Deno.readFile(wavPath));
    assert.equal(wav.channels, 2);
    assert.equal(wav.sampleRate, summary.sample_rate);
    assert.ok(wav.frames > wav.sampleRate * 0.8, `${wav.frames} frames`);
    const from = Math.floor(wav.frames / 3); // past the start-up silence
    const power = (freq: number) =>
      tonePower(wav.samples, 2, 0, from, freq, wav.sampleRate) +
      tonePower(wav.samples, 2, 1, from, freq, wav.sampleRate);
    return { summary, power, rate: wav.sampleRate, log: err.join("\n") };
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every packet decoded, none left undecoded, no decode errors; a bounded share concealed. */
function assertDecoded(r: Run, groups: number): void {
  const s = r.summary;
  assert.equal(s.encoding, "opus");
  assert.equal(s.decode_errors, 0, r.log);
  assert.equal(s.undecoded_packets, 0);
  assert.ok(s.decoded_packets > 100 * groups, `decoded ${s.decoded_packets}`);
  assert.ok(
    s.decoded_packets >= s.packets_received - 2 * groups,
    `decoded ${s.decoded_packets} of ${s.packets_received}`,
  );
  assert.ok(s.opus_concealed_groups <= s.packets_received / 20, `${s.opus_concealed_groups}`);
  assert.doesNotMatch(r.log, /not (available|decoded)|cannot decode/i);
  assert.match(r.log, /Opus decoded at/);
}

/** −20 dBFS = amplitude 0.1 → power 0.01; panned centre it is split over the two sides. */
function assertTone(r: Run, freq: number): void {
  const p = r.power(freq);
  assert.ok(p > 0.004 && p < 0.03, `${freq} Hz power ${p}`);
}

Deno.test("client decodes Opus: channels 2 and 5 mixed into a WAV carry 200 and 500 Hz", async () => {
  const r = await runOpusClient({ channels: [2, 5] });
  assert.deepEqual(r.summary.channels, [2, 5]);
  assert.deepEqual(r.summary.channel_groups, [[2, 5]]);
  assert.equal(r.rate, 48000);
  assertDecoded(r, 1);
  assertTone(r, 200);
  assertTone(r, 500);
  const silent = r.power(350);
  assert.ok(silent < r.power(200) / 100, `350 Hz (no channel) ${silent}`);
});

Deno.test("client decodes Opus split into channel groups (max_datagram_bytes 300)", async () => {
  const channels = [2, 5, 7, 9, 11, 12, 13, 15, 17, 19, 21, 23, 25];
  const r = await runOpusClient({ channels, maxDatagramBytes: 300 });
  const groups = r.summary.channel_groups!;
  assert.ok(groups.length >= 2, JSON.stringify(groups));
  assert.deepEqual(groups.flat(), channels);
  assertDecoded(r, groups.length);
  // a tone from the first group and one from the last
  assertTone(r, 200);
  assertTone(r, 500);
  assertTone(r, 2500);
  // 13 tones summed drive the limiter, whose gain changes spread a little energy
  // between the tones; scrambled groups would put noise there at tone level.
  const silent = r.power(350);
  assert.ok(silent < r.power(200) / 30, `350 Hz (no channel) ${silent}`);
});

Deno.test("client decodes Opus at 24 kHz when the ack says so", async () => {
  const r = await runOpusClient({ channels: [2, 5], sampleRate: 24000 });
  assert.equal(r.summary.sample_rate, 24000);
  assert.equal(r.rate, 24000);
  assertDecoded(r, 1);
  assertTone(r, 200);
  assertTone(r, 500);
});
