/**
 * Per-client sample rates and Opus through the real server: resampled PCM
 * keeps the test values, and stock libopus (opus_multistream_decode) decodes
 * every Opus packet to the `tone` signal of each channel.
 */
import assert from "node:assert/strict";
import { decodePcm, Probe } from "./helpers/probe.ts";
import { startTestServer } from "./helpers/server.ts";
import { OpusMultistreamDecoder } from "../src/codec/opus_decoder.ts";
import { fitTone } from "../src/audio/test_tone_check.ts";
import { TONE_AMPLITUDE } from "../src/audio/test_signal.ts";

for (const rate of [44100, 32000, 24000]) {
  Deno.test(`a ${rate} Hz PCM client gets ${rate} Hz frames with test values within ±1`, async () => {
    const srv = await startTestServer();
    try {
      const { probe, ack, req } = await Probe.streaming(srv.url, {
        channels: [{ id: 1 }, { id: 12 }, { id: 32 }],
        sample_rate: rate,
      });
      assert.equal(ack.sample_rate, rate);
      assert.match(ack.sdp as string, new RegExp(`a=rtpmap:96 L24/${rate}/3`));
      assert.match(req.sdp, /a=rtpmap:96 L24\/48000\/32/, "request-audio describes all channels");
      const pkts = await probe.waitPackets(120);
      // timestamps advance at the client's rate: ~rate/200 per 5 ms period
      const span = (pkts[119].info.timestamp - pkts[20].info.timestamp) >>> 0;
      const frames = pkts.slice(20, 119).reduce((n, p) => n + p.info.payloadLength / 9, 0);
      assert.equal(span, frames, "timestamps count frames at the stream rate");
      let checked = 0;
      for (const p of pkts.slice(0, 120)) { // from the very first packet (contract §6)
        for (const f of decodePcm(p, 3, 3)) {
          assert.ok(
            Math.abs(f[0] - 1) <= 1 && Math.abs(f[1] - 12) <= 1 && Math.abs(f[2] - 32) <= 1,
            `${f}`,
          );
          checked++;
        }
      }
      const seconds = (pkts[119].at - pkts[20].at) / 1000;
      assert.ok(checked > 0);
      assert.ok(Math.abs(frames / seconds - rate) / rate < 0.25, `${frames / seconds} frames/s`);
      await probe.close();
    } finally {
      await srv.stop();
    }
  });
}

Deno.test("stock opus_multistream_decode decodes every Opus packet to each channel's id × 100 Hz tone", async () => {
  const srv = await startTestServer();
  try {
    srv.ctx.store.patch({ audio: { test_mode: "tone" } });
    const ids = [1, 4, 10, 20];
    const { probe, ack } = await Probe.streaming(srv.url, {
      channels: ids.map((id) => ({ id })),
      compression: "opus",
    });
    assert.equal(ack.compression, "opus");
    assert.equal(ack.encoding, "opus");
    assert.equal(ack.payload_type, 97);
    assert.equal(ack.sample_rate, 48000);
    assert.match(ack.sdp as string, /a=rtpmap:97 multiopus\/48000\/4/);
    const pkts = await probe.waitPackets(150);
    const dec = new OpusMultistreamDecoder({ sampleRate: 48000, channels: ids.length });
    const pcm = new Int16Array(dec.maxFrames * ids.length);
    const all: number[] = [];
    for (const [i, p] of pkts.slice(0, 150).entries()) {
      assert.equal(p.info.payloadType, 97);
      if (i > 0) {
        assert.equal(
          (p.info.timestamp - pkts[i - 1].info.timestamp) >>> 0,
          240,
          "48 kHz RTP clock",
        );
      }
      const payload = p.bytes.subarray(
        p.info.payloadOffset,
        p.info.payloadOffset + p.info.payloadLength,
      );
      const n = dec.decodeInt16(payload, payload.length, pcm);
      assert.equal(n, 240);
      for (let k = 0; k < n * ids.length; k++) all.push(pcm[k]);
    }
    dec.close();
    const frames = all.length / ids.length;
    const skip = 960; // decoder warm-up
    for (const [c, id] of ids.entries()) {
      const fit = fitTone(all, skip * ids.length + c, ids.length, frames - skip, id * 100, 48000);
      const want = TONE_AMPLITUDE * 32768;
      const levelDb = 20 * Math.log10(fit.amplitude / want);
      assert.ok(
        Math.abs(levelDb) < 1.5,
        `channel ${id}: level ${levelDb.toFixed(2)} dB off −20 dBFS`,
      );
      const snr = 20 * Math.log10(fit.amplitude / Math.SQRT2 / fit.residualRms);
      assert.ok(snr > 10, `channel ${id}: tone-to-noise ${snr.toFixed(1)} dB`);
    }
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("Opus at 32000 is sent as 48 kHz super-wideband and the ack says so", async () => {
  const srv = await startTestServer();
  try {
    const { probe, ack } = await Probe.streaming(srv.url, {
      channels: [{ id: 2 }],
      compression: "opus",
      sample_rate: 32000,
    });
    assert.equal(ack.sample_rate, 24000);
    assert.match(String(ack.note), /super-wideband/);
    const [p] = await probe.waitPackets(1);
    assert.equal(p.info.payloadType, 97);
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("32 Opus channels split into channel groups when one frame of all does not fit the datagram limit", async () => {
  const srv = await startTestServer();
  try {
    srv.ctx.store.patch({ audio: { max_datagram_bytes: 600 } });
    const { probe, ack } = await Probe.streaming(srv.url, { compression: "opus" });
    const groups = ack.channel_groups as number[][];
    assert.ok(groups.length >= 3, JSON.stringify(groups));
    assert.deepEqual(groups.flat(), [...Array(32).keys()].map((i) => i + 1));
    const pkts = await probe.waitPackets(groups.length * 10);
    for (const p of pkts) assert.ok(p.bytes.length <= 600);
    // packets of one frame share a timestamp; each decodes with its group's stream count
    for (let f = 0; f < 10; f++) {
      const frame = pkts.slice(f * groups.length, (f + 1) * groups.length);
      for (const [g, p] of frame.entries()) {
        assert.equal(p.info.timestamp, frame[0].info.timestamp);
        const dec = new OpusMultistreamDecoder({ sampleRate: 48000, channels: groups[g].length });
        const pcm = new Int16Array(dec.maxFrames * groups[g].length);
        const payload = p.bytes.subarray(
          p.info.payloadOffset,
          p.info.payloadOffset + p.info.payloadLength,
        );
        assert.equal(dec.decodeInt16(payload, payload.length, pcm), 240);
        dec.close();
      }
    }
    await probe.close();
  } finally {
    await srv.stop();
  }
});
