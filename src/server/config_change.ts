/**
 * What a committed configuration change does to running sessions. A change to
 * anything on the wire (audio, network, ALSA settings, the channel mapping)
 * ends every session with `config_changed`; anything else (a channel rename,
 * jitter thresholds, HTTPS) ends none. The writer may first name its reason
 * (`changeReason`, e.g. "admin changed audio.sample_rate"); a write that
 * turns out to change nothing on the wire drops that reason, so it never
 * labels a later, unrelated change.
 *
 * Every change to the channel list phones show (names, order, which are
 * mapped: what /audio-meta lists) is told to every connected client at once
 * with a `channels_changed` event, before any session ends:
 *
 *   {"type":"event","payload":{"type":"channels_changed","config_version":8,
 *     "channels":[{"id":1,"name":"Kick","order":1},…]}}
 *
 * so a phone shows the engineer's names and order without reconnecting.
 */
import type { ChannelConfig, Config } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import type { ShownChannel } from "../session/shown_channels.ts";
import { wireSignature } from "../config/wire.ts";

/** What is on the wire (src/config/wire.ts, shared with the admin page). */
export { wireSignature };

export const DEFAULT_CHANGE_REASON = "configuration changed";

export interface ConfigChangeDeps {
  /** The effective configuration (stored values with this run's overrides). */
  config(): Config;
  channels(): ChannelConfig[];
  /** The wire changed: reconfigure the engine and the sender from `prev` to `next`. */
  applyWire(prev: Config, next: Config): void;
  /** The channel list as /audio-meta shows it (mapped channels, in send order). */
  shownChannels(): ShownChannel[];
  /** Sends `event` to every connected client; returns how many. */
  broadcast(event: Record<string, unknown>): number;
  /** Ends every session with `event`; returns how many ended. */
  endAll(reason: string, event: Record<string, unknown>): number;
  /** The source restarts with the new settings when the next client streams. */
  restartCapture(): void;
  log: Logger;
}

export class ConfigChangePolicy {
  private signature: string;
  private shown: string;
  private current: Config;
  private pendingReason: string | null = null;

  constructor(private readonly deps: ConfigChangeDeps) {
    this.current = deps.config();
    this.signature = wireSignature(this.current, deps.channels());
    this.shown = JSON.stringify(deps.shownChannels());
  }

  /** Sets the `reason` the next config_changed event carries (admin edit, rate step…). */
  readonly changeReason = (reason: string): void => {
    this.pendingReason = reason;
  };

  /** A change was committed (ConfigStore.onChange); returns the sessions ended. */
  readonly committed = (stored: Config): number => {
    const { deps } = this;
    const sig = wireSignature(deps.config(), deps.channels());
    const reason = this.pendingReason;
    this.pendingReason = null;
    const shown = deps.shownChannels();
    const shownText = JSON.stringify(shown);
    if (shownText !== this.shown) {
      this.shown = shownText;
      const told = deps.broadcast({
        type: "channels_changed",
        config_version: stored.config_version,
        channels: shown,
      });
      deps.log.info("channel list changed", {
        config_version: stored.config_version,
        clients_told: told,
      });
    }
    if (sig === this.signature) return 0;
    this.signature = sig;
    const prev = this.current;
    const next = this.current = deps.config();
    deps.applyWire(prev, next);
    const event: Record<string, unknown> = {
      type: "config_changed",
      reason: reason ?? DEFAULT_CHANGE_REASON,
      config_version: stored.config_version,
    };
    if (prev.audio.sample_rate !== next.audio.sample_rate) {
      event.new_sample_rate = next.audio.sample_rate;
    }
    const n = deps.endAll(DEFAULT_CHANGE_REASON, event);
    deps.log.info("configuration changed", {
      config_version: stored.config_version,
      sessions_ended: n,
    });
    deps.restartCapture();
    return n;
  };
}
