/**
 * What the admin page holds between answers: the saved configuration and
 * channels, the edited channel rows, the chart history and the live socket.
 */
import type {
  ChannelConfig,
  Config,
  HistoryPoint,
  HttpsView,
  QrAnswer,
} from "../../src/admin/api_types.ts";

export interface AdminState {
  config: Config | null;
  /** Saved, sorted by id. */
  channels: ChannelConfig[];
  /** Edited, in display (send) order. */
  rows: ChannelConfig[];
  history: HistoryPoint[];
  live: WebSocket | null;
  liveWanted: boolean;
  lastVersion: number | null;
  /** Saves in flight: their own version bump is not a change "elsewhere". */
  saving: number;
  qr: QrAnswer | null;
  https: HttpsView | null;
  /** Which code the QR card shows: "http", or null for the default (https when it is up). */
  qrMode: "http" | "https" | null;
  /** Keys ("section.key") this run's command line overrides, from the latest snapshot. */
  overrides: Set<string>;
}

export const state: AdminState = {
  config: null,
  channels: [],
  rows: [],
  history: [],
  live: null,
  liveWanted: false,
  lastVersion: null,
  saving: 0,
  qr: null,
  https: null,
  qrMode: null,
  overrides: new Set(),
};
