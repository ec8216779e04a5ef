import assert from "node:assert/strict";
import {
  CAPTURE0_MS,
  CHANNELS,
  groupPackets,
  GROUPS,
  KeepingSink,
  SSRC,
  TIMES,
} from "../../tests/helpers/opus_groups.ts";
import type { ClientConfigAck } from "../../src/client/messages.ts";
import { PT_OPUS } from "../../src/rtp/packet.ts";
import { PageReceiver } from "./page_receiver.ts";

const ACK: ClientConfigAck = {
  channels: CHANNELS,
  sample_rate: 48000,
  compression: "opus",
  encoding: "opus",
  ptime_ms: 5,
  ssrc: SSRC,
  payload_type: PT_OPUS,
  sdp: "",
  channel_groups: GROUPS,
};

Deno.test("the page holds packets while a stream's wasm decoders instantiate, then plays them all", async () => {
  const sink = new KeepingSink();
  const r = new PageReceiver(sink, 0, () => 0);
  try {
    const configured = r.configure(ACK);
    for (const [k, time] of groupPackets().entries()) {
      for (const p of time) r.onPacket(p.rtp, k * 5);
    }
    assert.equal(sink.handed.length, 0, "nothing decoded before the decoders run");
    await configured;
    assert.deepEqual(sink.handed.map((h) => h.frames), Array(TIMES).fill(240));
    assert.deepEqual(r.stats(), {
      received: TIMES * GROUPS.length,
      expected: TIMES * GROUPS.length,
      lossRate: 0,
      jitterMs: r.rtp.jitter.jitterMs,
      latencyMs: r.rtp.latency.lastMs,
      decodeErrors: 0,
      totalBytes: r.rtp.bandwidth.totalBytes,
      concealedGroups: 0,
      lateGroups: 0,
      heldGroups: 0,
    });
    assert.equal(r.newestCaptureEndMs, CAPTURE0_MS + TIMES * 5);
  } finally {
    r.close();
  }
});

Deno.test("a newer ack wins over one whose decoders are still instantiating", async () => {
  const sink = new KeepingSink();
  const r = new PageReceiver(sink, 0, () => 0);
  try {
    const first = r.configure({ ...ACK, ssrc: 1 });
    const second = r.configure(ACK);
    await Promise.all([first, second]);
    assert.equal(r.rtp.stream?.ssrc, SSRC);
    assert.equal(r.rtp.streams, 1);
    assert.equal(r.stats().decodeErrors, 0);
  } finally {
    r.close();
  }
});
