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
  /** What the last detection found, in one sentence. */
  detection = "";
  /** Whether the last detection found a console (null: not looked yet, or a device is configured). */
  found: boolean | null = null;

  constructor(private readonly clock: Clock, private readonly log: Logger) {}

  /** Looks for the console (when no device is configured); logs what it found once per change. */
  detect(configured: string): string | null {
    if (configured) {
      this.detection = `configured device "${configured}"`;
      this.found = null;
      return configured;
    }
    let match: { device: string | null; reason: string };
    try {
      match = findConsole(listCards());
    } catch (e) {
      match = { device: null, reason: `cannot list sound cards: ${(e as Error).message}` };
    }
    if (match.reason !== this.detection) {
      if (match.device === null) this.log.warn("console not found", { reason: match.reason });
      else this.log.info("console found", { device: match.device, reason: match.reason });
    }
    this.detection = match.reason;
    this.found = match.device !== null;
    return match.device;
  }

  readonly create = (req: AlsaOpenRequest): Source => {
    const device = this.detect(req.device);
    if (device === null) throw new Error(this.detection);
    return new AlsaSource({
      device,
      sampleRate: req.sampleRate === 44100 ? 44100 : 48000,
      framesPerPeriod: req.framesPerPeriod,
      clock: this.clock,
      logger: (level, msg, fields) => this.log[level](msg, fields),
    });
  };
}
