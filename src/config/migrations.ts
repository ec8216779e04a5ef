/**
 * Versioned schema migrations. Each entry runs once, in order, inside a
 * transaction; `PRAGMA user_version` records how far a database has come.
 * Never edit a shipped migration: append a new one.
 */
import { CHANNEL_COUNT, DEFAULT_CONFIG, defaultChannelName } from "./types.ts";

const d = DEFAULT_CONFIG;

function channelRows(): string {
  const rows: string[] = [];
  for (let id = 1; id <= CHANNEL_COUNT; id++) {
    rows.push(`(${id}, '${defaultChannelName(id)}', 1, ${id})`);
  }
  return rows.join(",\n");
}

export const MIGRATIONS: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  INSERT INTO meta (key, value) VALUES ('config_version', '1');

  CREATE TABLE audio_config (
    id                 INTEGER PRIMARY KEY,
    active             INTEGER NOT NULL DEFAULT 0,
    native_sample_rate INTEGER NOT NULL,
    sample_rate        INTEGER NOT NULL,
    encoding           TEXT    NOT NULL CHECK (encoding IN ('L16', 'L24')),
    ptime_ms           REAL    NOT NULL,
    max_datagram_bytes INTEGER NOT NULL,
    test_mode          TEXT    NOT NULL CHECK (test_mode IN ('off', 'id', 'tone'))
  );
  CREATE UNIQUE INDEX audio_config_one_active ON audio_config (active) WHERE active = 1;
  INSERT INTO audio_config
    (active, native_sample_rate, sample_rate, encoding, ptime_ms, max_datagram_bytes, test_mode)
  VALUES (1, ${d.audio.native_sample_rate}, ${d.audio.sample_rate}, '${d.audio.encoding}',
          ${d.audio.ptime_ms}, ${d.audio.max_datagram_bytes}, '${d.audio.test_mode}');

  CREATE TABLE channels (
    id      INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND ${CHANNEL_COUNT}),
    name    TEXT    NOT NULL,
    enabled INTEGER NOT NULL,
    "order" INTEGER NOT NULL
  );
  INSERT INTO channels (id, name, enabled, "order") VALUES
  ${channelRows()};

  CREATE TABLE jitter_thresholds (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    interpolate INTEGER NOT NULL,
    "drop"      INTEGER NOT NULL
  );
  INSERT INTO jitter_thresholds VALUES (1, ${d.jitter.interpolate}, ${d.jitter.drop});

  CREATE TABLE network_config (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    dscp                INTEGER NOT NULL,
    max_clients         INTEGER NOT NULL,
    heartbeat_timeout_s INTEGER NOT NULL,
    ext_interval_ms     INTEGER NOT NULL
  );
  INSERT INTO network_config VALUES (1, ${d.network.dscp}, ${d.network.max_clients},
    ${d.network.heartbeat_timeout_s}, ${d.network.ext_interval_ms});

  CREATE TABLE adaptation_config (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    enabled        INTEGER NOT NULL,
    latency_ms     INTEGER NOT NULL,
    hold_s         INTEGER NOT NULL,
    recover_hold_s INTEGER NOT NULL
  );
  INSERT INTO adaptation_config VALUES (1, ${d.adaptation.enabled ? 1 : 0},
    ${d.adaptation.latency_ms}, ${d.adaptation.hold_s}, ${d.adaptation.recover_hold_s});

  CREATE TABLE alsa_config (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    device TEXT NOT NULL
  );
  INSERT INTO alsa_config VALUES (1, '${d.alsa.device}');
  `,
  // 2: the optional HTTPS listener page (issue #8), off by default.
  `
  CREATE TABLE https_config (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    port    INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535)
  );
  INSERT INTO https_config VALUES (1, ${d.https.enabled ? 1 : 0}, ${d.https.port});
  `,
  // 3: AES67 output and input (issue #14, docs/protocol.md §13), both off by default.
  `
  CREATE TABLE aes67_output (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    enabled             INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    interface           TEXT    NOT NULL,
    multicast_base      TEXT    NOT NULL,
    ptime_us            INTEGER NOT NULL CHECK (ptime_us IN (125, 250, 333, 1000, 4000)),
    channels_per_stream INTEGER NOT NULL CHECK (channels_per_stream BETWEEN 1 AND 8),
    ttl                 INTEGER NOT NULL CHECK (ttl BETWEEN 1 AND 255),
    dscp                INTEGER NOT NULL CHECK (dscp BETWEEN 0 AND 63),
    name                TEXT    NOT NULL
  );
  INSERT INTO aes67_output VALUES (1, ${d.aes67.output.enabled ? 1 : 0},
    '${d.aes67.output.interface}', '${d.aes67.output.multicast_base}', ${d.aes67.output.ptime_us},
    ${d.aes67.output.channels_per_stream}, ${d.aes67.output.ttl}, ${d.aes67.output.dscp},
    '${d.aes67.output.name}');

  CREATE TABLE aes67_input (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    session TEXT    NOT NULL
  );
  INSERT INTO aes67_input VALUES (1, ${d.aes67.input.enabled ? 1 : 0}, '${d.aes67.input.session}');
  `,
];
