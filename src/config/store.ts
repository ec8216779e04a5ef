/**
 * The configuration store: SQLite through node:sqlite (WAL, versioned
 * migrations), the only module that reads or writes configuration tables.
 * Every change commits before the call returns and bumps `config_version`.
 * Values reaching this module are already validated (src/config/validate.ts).
 *
 * Reads are cached: `get()` and `getChannels()` run their (once-prepared)
 * statements only after a write, and hand out copies, so no caller can change
 * what the next one reads. Every write goes through this class (`tx()`
 * included), and every write path drops the cache: write through `db`
 * directly only inside `tx()`.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { MIGRATIONS } from "./migrations.ts";
import type {
  AdaptationConfig,
  Aes67Config,
  AlsaConfig,
  AudioConfig,
  ChannelConfig,
  Config,
  ConfigPatch,
  Encoding,
  HttpsConfig,
  JitterThresholds,
  NetworkConfig,
  TestMode,
} from "./types.ts";

type Row = Record<string, unknown>;

export class ConfigStore {
  readonly db: DatabaseSync;
  private listeners = new Set<(cfg: Config) => void>();
  private readonly statements = new Map<string, StatementSync>();
  /** The configuration as last read; null after a write. */
  private cached: Config | null = null;
  private cachedChannels: ChannelConfig[] | null = null;
  /** Inside tx(): reads bypass the cache (the transaction may write through `db`). */
  private inTx = false;

  /** `path` is a file path or ":memory:". */
  constructor(path: string) {
    this.db = new DatabaseSync(path);
    if (path !== ":memory:") this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 2000");
    this.migrate();
  }

  static open(dataDir: string): ConfigStore {
    Deno.mkdirSync(dataDir, { recursive: true });
    return new ConfigStore(`${dataDir}/m32-server.sqlite`);
  }

  close(): void {
    this.invalidate();
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }

  /** `sql` prepared once per connection. */
  private stmt(sql: string): StatementSync {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, st = this.db.prepare(sql));
    return st;
  }

  /** Drops the cached reads: the next get()/getChannels() reads the database. */
  private invalidate(): void {
    this.cached = null;
    this.cachedChannels = null;
  }

  get schemaVersion(): number {
    return (this.db.prepare("PRAGMA user_version").get() as Row).user_version as number;
  }

  private migrate(): void {
    for (let v = this.schemaVersion; v < MIGRATIONS.length; v++) {
      this.tx(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  /** Runs `fn` in one transaction: all of it commits, or none. */
  tx<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    this.invalidate();
    this.inTx = true;
    try {
      const out = fn();
      this.db.exec("COMMIT");
      return out;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    } finally {
      this.inTx = false;
      this.invalidate();
    }
  }

  /** Subscribe to committed configuration changes (the engine ends sessions on these). */
  onChange(fn: (cfg: Config) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): Config {
    const cfg = this.get();
    for (const fn of this.listeners) fn(cfg);
    return cfg;
  }

  private bumpVersion(): void {
    this.stmt(
      "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'config_version'",
    ).run();
  }

  get configVersion(): number {
    return Number(this.getMeta("config_version"));
  }

  getMeta(key: string): string | undefined {
    const row = this.stmt("SELECT value FROM meta WHERE key = ?").get(key) as Row | undefined;
    return row?.value as string | undefined;
  }

  /** Meta values that are not configuration (e.g. the admin password hash): no version bump. */
  setMeta(key: string, value: string): void {
    this.stmt(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(key, value);
    this.invalidate();
  }

  /** The stored configuration: a copy of the cached one, read again only after a write. */
  get(): Config {
    let cfg = this.cached;
    if (!cfg) {
      cfg = this.read();
      if (!this.inTx) this.cached = cfg;
    }
    return {
      audio: { ...cfg.audio },
      network: { ...cfg.network },
      jitter: { ...cfg.jitter },
      adaptation: { ...cfg.adaptation },
      alsa: { ...cfg.alsa },
      https: { ...cfg.https },
      aes67: { output: { ...cfg.aes67.output }, input: { ...cfg.aes67.input } },
      config_version: cfg.config_version,
    };
  }

  private read(): Config {
    const a = this.stmt("SELECT * FROM audio_config WHERE active = 1").get() as Row;
    const n = this.stmt("SELECT * FROM network_config WHERE id = 1").get() as Row;
    const j = this.stmt("SELECT * FROM jitter_thresholds WHERE id = 1").get() as Row;
    const ad = this.stmt("SELECT * FROM adaptation_config WHERE id = 1").get() as Row;
    const al = this.stmt("SELECT * FROM alsa_config WHERE id = 1").get() as Row;
    const hs = this.stmt("SELECT * FROM https_config WHERE id = 1").get() as Row;
    const audio: AudioConfig = {
      native_sample_rate: a.native_sample_rate as number,
      sample_rate: a.sample_rate as number,
      encoding: a.encoding as Encoding,
      ptime_ms: a.ptime_ms as number,
      max_datagram_bytes: a.max_datagram_bytes as number,
      test_mode: a.test_mode as TestMode,
    };
    const network: NetworkConfig = {
      dscp: n.dscp as number,
      max_clients: n.max_clients as number,
      heartbeat_timeout_s: n.heartbeat_timeout_s as number,
      ext_interval_ms: n.ext_interval_ms as number,
    };
    const jitter: JitterThresholds = {
      interpolate: j.interpolate as number,
      drop: j.drop as number,
    };
    const adaptation: AdaptationConfig = {
      enabled: ad.enabled === 1,
      latency_ms: ad.latency_ms as number,
      hold_s: ad.hold_s as number,
      recover_hold_s: ad.recover_hold_s as number,
    };
    const alsa: AlsaConfig = { device: al.device as string };
    const https: HttpsConfig = { enabled: hs.enabled === 1, port: hs.port as number };
    const ao = this.stmt("SELECT * FROM aes67_output WHERE id = 1").get() as Row;
    const ai = this.stmt("SELECT * FROM aes67_input WHERE id = 1").get() as Row;
    const aes67: Aes67Config = {
      output: {
        enabled: ao.enabled === 1,
        interface: ao.interface as string,
        multicast_base: ao.multicast_base as string,
        ptime_us: ao.ptime_us as number,
        channels_per_stream: ao.channels_per_stream as number,
        ttl: ao.ttl as number,
        dscp: ao.dscp as number,
        name: ao.name as string,
      },
      input: { enabled: ai.enabled === 1, session: ai.session as string },
    };
    return {
      audio,
      network,
      jitter,
      adaptation,
      alsa,
      https,
      aes67,
      config_version: this.configVersion,
    };
  }

  /** Applies an already-validated patch atomically; returns the new configuration. */
  patch(p: ConfigPatch): Config {
    this.tx(() => {
      this.updateRow("audio_config", "active = 1", p.audio);
      this.updateRow("network_config", "id = 1", p.network);
      this.updateRow("jitter_thresholds", "id = 1", p.jitter);
      this.updateRow("adaptation_config", "id = 1", p.adaptation);
      this.updateRow("alsa_config", "id = 1", p.alsa);
      this.updateRow("https_config", "id = 1", p.https);
      this.updateRow("aes67_output", "id = 1", p.aes67?.output);
      this.updateRow("aes67_input", "id = 1", p.aes67?.input);
      this.bumpVersion();
    });
    return this.changed();
  }

  private updateRow(table: string, where: string, values: object | undefined): void {
    if (!values) return;
    const entries = Object.entries(values).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `"${k}" = ?`).join(", ");
    const args = entries.map(([, v]) => (typeof v === "boolean" ? (v ? 1 : 0) : v)) as (
      | string
      | number
    )[];
    this.db.prepare(`UPDATE ${table} SET ${sets} WHERE ${where}`).run(...args);
  }

  getJitter(): JitterThresholds {
    return this.get().jitter;
  }

  setJitter(j: JitterThresholds): Config {
    return this.patch({ jitter: j });
  }

  /** The requirements' rate step: `UPDATE audio_config SET sample_rate = ? WHERE active = 1`. */
  setSampleRate(rate: number): Config {
    return this.patch({ audio: { sample_rate: rate } });
  }

  /** All 32 channel rows by id: copies of the cached ones, read again only after a write. */
  getChannels(): ChannelConfig[] {
    let channels = this.cachedChannels;
    if (!channels) {
      const rows = this.stmt('SELECT id, name, enabled, "order" FROM channels ORDER BY id')
        .all() as Row[];
      channels = rows.map((r) => ({
        id: r.id as number,
        name: r.name as string,
        enabled: r.enabled === 1,
        order: r.order as number,
      }));
      if (!this.inTx) this.cachedChannels = channels;
    }
    return channels.map((c) => ({ ...c }));
  }

  /** Replaces all 32 channel rows (already validated) in one transaction. */
  setChannels(channels: readonly ChannelConfig[]): Config {
    this.tx(() => {
      const st = this.stmt('UPDATE channels SET name = ?, enabled = ?, "order" = ? WHERE id = ?');
      for (const c of channels) st.run(c.name, c.enabled ? 1 : 0, c.order, c.id);
      this.bumpVersion();
    });
    return this.changed();
  }
}
