/**
 * What the admin API says about the AES67 output (`GET /api/admin/aes67`,
 * /health's summary): plain types, shared with the admin page's bundle.
 */

export interface InterfaceInfo {
  name: string;
  index: number;
  /** The interface's first IPv4 address. */
  address: string;
  /** "aa:bb:cc:dd:ee:ff" (all zeros on `lo`). */
  mac: string;
  up: boolean;
}

/** One stream as the admin page and /api/admin/aes67 show it. */
export interface Aes67StreamView {
  index: number;
  name: string;
  group: string;
  port: number;
  channels: number[];
  ssrc: number;
  sdp: string;
}

/** What `GET /api/admin/aes67` answers and /health summarises. */
export interface Aes67View {
  output: {
    enabled: boolean;
    state: "off" | "sending" | "error";
    error: string;
    interface: InterfaceInfo | null;
    streams: Aes67StreamView[];
    packets: number;
    send_errors: number;
    last_send_error: string;
    drift_samples: number;
    sap_sent: number;
  };
  clock: {
    source: "ptp" | "system";
    grandmaster: string | null;
    domain: number | null;
    utc_offset_s: number | null;
    port_state: string | null;
    refclk: string | null;
  };
  interfaces: InterfaceInfo[];
  /** The default route's interface (what `interface: ""` uses), or null. */
  default_interface: string | null;
}

/** One SAP session heard (`GET /api/admin/aes67/sessions`, ./routes.ts). */
export interface Aes67SessionView {
  /** The `s=` line. */
  name: string;
  /** The sender's address from `o=`. */
  origin: string;
  /** `o=` username and session id, which name the session across versions. */
  session_id: string;
  /** The multicast groups of its audio streams, in order. */
  groups: string[];
  /** Channels of all its streams. */
  channels: number;
  /** Channel names in order ("" where none is announced). */
  labels: string[];
  /** Packet time of the first stream (ms), or null when not announced. */
  ptime_ms: number | null;
  /** Its reference clock (`a=ts-refclk`), or "" when not announced. */
  clock: string;
  /** When the last announcement arrived (ISO 8601). */
  last_heard: string;
  /** The SAP packet's originating source. */
  sap_source: string;
  streams: {
    group: string;
    port: number;
    ttl: number | null;
    encoding: string;
    sample_rate: number;
    channels: number;
    ptime_ms: number | null;
    payload_type: number;
    mediaclk: string;
  }[];
}
