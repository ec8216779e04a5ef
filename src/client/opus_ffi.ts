/**
 * The Deno side of the client's Opus decoding: an `OpusDecoderFactory` on
 * libopus's `opus_multistream_decode_float` (src/codec/opus_decoder.ts), one
 * decoder per channel group. Needs --allow-ffi (libopus is loaded on first use).
 */

import { OpusMultistreamDecoder } from "../codec/opus_decoder.ts";
import type { OpusDecoderFactory, OpusFrameDecoder } from "./opus.ts";

export const libopusDecoderFactory: OpusDecoderFactory = (
  channels: number,
  sampleRate: number,
): OpusFrameDecoder => {
  const dec = new OpusMultistreamDecoder({ sampleRate, channels });
  return {
    decode: (payload, out, lostFrames) =>
      payload === null
        ? dec.decodeFloat(null, 0, out, lostFrames)
        : dec.decodeFloat(payload, payload.length, out),
    close: () => dec.close(),
  };
};
