/**
 * The channel list as phones are shown it: the mapped channels the source
 * has, in send order, numbered from 1 (`/audio-meta`'s `channels`, and the
 * `channels_changed` event's).
 */
import type { ChannelConfig } from "../config/types.ts";

export interface ShownChannel {
  /** The console's USB channel number, 1–32. */
  id: number;
  name: string;
  /** Position in the send order, from 1. */
  order: number;
}

export function shownChannels(available: readonly ChannelConfig[]): ShownChannel[] {
  return available.map((ch, i) => ({ id: ch.id, name: ch.name, order: i + 1 }));
}
