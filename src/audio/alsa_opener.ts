/**
 * Opens the console: the configured ALSA PCM name exactly as given, or, with
 * none configured, the card that looks like an M32/X32 — and says what it
 * found and why (logged, and shown in /health).
 */
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { findConsole, listCards } from "./alsa_cards.ts";
import { AlsaSource } from "./alsa_source.ts";
import type { AlsaOpenRequest } from "./source_factory.ts";
import type { Source } from "./source.ts";

export class AlsaOpener {
  /** What the last detection found, in one sentence ("" when a device was configured). */
  detection = "";

  constructor(private readonly clock: Clock, private readonly log: Logger) {}

  readonly create = (req: AlsaOpenRequest): Source => {
    let device = req.device;
    if (!device) {
      const found = findConsole(listCards());
      if (found.device === null) {
        if (found.reason !== this.detection) {
          this.log.warn("console not found", { reason: found.reason });
        }
        this.detection = found.reason;
        throw new Error(found.reason);
      }
      if (found.reason !== this.detection) {
        this.log.info("console found", { device: found.device, reason: found.reason });
      }
      this.detection = found.reason;
      device = found.device;
    } else {
      this.detection = `configured device "${device}"`;
    }
    return new AlsaSource({
      device,
      sampleRate: req.sampleRate === 44100 ? 44100 : 48000,
      framesPerPeriod: req.framesPerPeriod,
      clock: this.clock,
      logger: (level, msg, fields) => this.log[level](msg, fields),
    });
  };
}
