/**
 * The AES67 output and the source's reaction to AES67 settings (src/aes67/):
 * neither ever ends a phone session, but
 * - turning the output on or off changes the source's period when the packet
 *   time is not 1 ms (src/audio/source_factory.ts `sourcePeriodMs`): the
 *   source reopens once;
 * - the input turned on or off, or another session chosen while it is the
 *   source (src/config/wire.ts `aes67InputSignature`): the source reopens,
 *   like a swapped device.
 * Phones hear a gap; their sessions go on.
 */
import { Aes67Service } from "../aes67/service.ts";
import { sourcePeriodMs } from "../audio/source_factory.ts";
import type { ConfigStore } from "../config/store.ts";
import type { ChannelConfig, Config } from "../config/types.ts";
import { aes67InputSignature } from "../config/wire.ts";
import { getLogger } from "../util/log.ts";
import type { AudioPipeline } from "./audio_pipeline.ts";
import type { Closers } from "../util/closers.ts";

export async function startAes67(
  o: {
    config(): Config;
    channels(): ChannelConfig[];
    store: ConfigStore;
    audio: AudioPipeline;
    /** This run's `--source` is aes67 (the input is the source whatever `input.enabled` says). */
    sourceIsAes67: boolean;
  },
  closers: Closers,
): Promise<Aes67Service> {
  const { config, store, audio } = o;
  let sourcePeriod = sourcePeriodMs(config());
  const aes67 = new Aes67Service({
    config,
    channels: o.channels,
    plane: audio.plane,
    onEnabledChange: () => {
      const period = sourcePeriodMs(config());
      if (period !== sourcePeriod) void audio.capture.restart();
      sourcePeriod = period;
      audio.syncCapture();
    },
    log: getLogger("aes67"),
    random: () => crypto.getRandomValues(new Uint32Array(1))[0],
  });
  closers.add("aes67 output", () => aes67.close());
  closers.add("aes67 config", store.onChange(() => aes67.apply()));
  const inputSignature = () => aes67InputSignature(config().aes67.input, o.sourceIsAes67);
  let inputKey = inputSignature();
  closers.add(
    "aes67 input config",
    store.onChange(() => {
      const key = inputSignature();
      if (key === inputKey) return;
      inputKey = key;
      void audio.capture.restart();
    }),
  );
  await aes67.start();
  return aes67;
}
