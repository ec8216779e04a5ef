/**
 * Which configuration is "on the wire": a committed change to any of it ends
 * every client session with `config_changed` (src/server/config_change.ts);
 * a change to anything else (channel names, jitter thresholds, rate
 * adaptation, HTTPS) ends none. Pure and runtime-neutral: the admin page
 * bundles it to ask before a save that would restart the phones' audio.
 */
import type { ChannelConfig, Config } from "./types.ts";

/** The configuration sections whose every key changes what is sent. */
export const WIRE_SECTIONS = ["audio", "network", "alsa"] as const;
export type WireSection = typeof WIRE_SECTIONS[number];

/**
 * The channel mapping as the wire sees it: which channels are sent and in
 * what order. Names are not in it: RTP carries ids, so a rename never cuts a
 * musician's audio (clients see the new name in /audio-meta).
 */
export function mappingSignature(channels: readonly ChannelConfig[]): string {
  return JSON.stringify(channels.map((c) => [c.id, c.enabled, c.order]));
}

/** Everything on the wire; two configurations with the same signature send the same streams. */
export function wireSignature(cfg: Config, channels: readonly ChannelConfig[]): string {
  return JSON.stringify([...WIRE_SECTIONS.map((s) => cfg[s]), mappingSignature(channels)]);
}

/**
 * Whether storing `patch` (section → changed keys) changes the wire. A key
 * this run's command line overrides (`overridden`, "section.key") does not:
 * the running server keeps the overriding value until the next start.
 */
export function patchChangesWire(
  patch: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  overridden: ReadonlySet<string> = new Set(),
): boolean {
  return WIRE_SECTIONS.some((section) =>
    Object.keys(patch[section] ?? {}).some((key) => !overridden.has(`${section}.${key}`))
  );
}

/**
 * What of `aes67.input` the audio source depends on (docs/aes67.md): the
 * session only while the source is the AES67 input — `input.enabled`, or
 * `--source aes67` for this run (`sourceIsAes67`) — and nothing otherwise
 * (a session chosen while the input is off is only stored). A change of this
 * signature reopens the source (src/server.ts): the phones hear a gap and
 * keep their sessions, so the admin page asks first.
 */
export function aes67InputSignature(
  input: Readonly<Config["aes67"]["input"]>,
  sourceIsAes67 = false,
): string {
  return input.enabled || sourceIsAes67 ? JSON.stringify([input.enabled, input.session]) : "off";
}
