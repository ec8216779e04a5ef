import assert from "node:assert/strict";
import { ConfigStore } from "./store.ts";
import { MIGRATIONS } from "./migrations.ts";
import { DEFAULT_CONFIG } from "./types.ts";

Deno.test("a new database is migrated to the latest schema with the documented defaults", () => {
  const s = new ConfigStore(":memory:");
  assert.equal(s.schemaVersion, MIGRATIONS.length);
  const cfg = s.get();
  const { config_version, ...rest } = cfg;
  assert.deepEqual(rest, DEFAULT_CONFIG);
  assert.equal(config_version, 1);
  const ch = s.getChannels();
  assert.equal(ch.length, 32);
  assert.deepEqual(ch[0], { id: 1, name: "CH01", enabled: true, order: 1 });
  assert.deepEqual(ch[31], { id: 32, name: "CH32", enabled: true, order: 32 });
  assert.deepEqual(s.getJitter(), { interpolate: 100, drop: 200 });
  s.close();
});

Deno.test("every configuration change increments config_version and is visible to listeners", () => {
  const s = new ConfigStore(":memory:");
  const seen: number[] = [];
  s.onChange((c) => seen.push(c.config_version));
  s.patch({ network: { dscp: 34 } });
  s.setJitter({ interpolate: 120, drop: 250 });
  const ch = s.getChannels();
  ch[1].enabled = false;
  s.setChannels(ch);
  s.setSampleRate(32000);
  assert.deepEqual(seen, [2, 3, 4, 5]);
  assert.equal(s.get().network.dscp, 34);
  assert.equal(s.get().audio.sample_rate, 32000);
  assert.equal(s.getChannels()[1].enabled, false);
  s.close();
});

Deno.test("the rate step is written to the active audio_config row, as the requirements show", () => {
  const s = new ConfigStore(":memory:");
  s.setSampleRate(44100);
  const row = s.db.prepare("SELECT sample_rate FROM audio_config WHERE active = 1").get() as {
    sample_rate: number;
  };
  assert.equal(row.sample_rate, 44100);
  s.close();
});

Deno.test("a failed change rolls back entirely and keeps the version", () => {
  const s = new ConfigStore(":memory:");
  assert.throws(() => s.patch({ network: { dscp: 10 }, audio: { encoding: "L32" as "L24" } }) // CHECK constraint
  );
  assert.equal(s.get().network.dscp, 46);
  assert.equal(s.get().config_version, 1);
  s.close();
});

Deno.test("configuration survives reopening the database file (WAL)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = ConfigStore.open(dir);
    a.patch({ audio: { ptime_ms: 2.5 }, alsa: { device: "hw:X32" } });
    a.close();
    const b = ConfigStore.open(dir);
    assert.equal(b.get().audio.ptime_ms, 2.5);
    assert.equal(b.get().alsa.device, "hw:X32");
    assert.equal(b.get().config_version, 2);
    const mode = b.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    assert.equal(mode.journal_mode, "wal");
    b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTPS is off by default on port 8443; turning it on bumps config_version", () => {
  const s = new ConfigStore(":memory:");
  assert.deepEqual(s.get().https, { enabled: false, port: 8443 });
  const seen: boolean[] = [];
  s.onChange((c) => seen.push(c.https.enabled));
  s.patch({ https: { enabled: true, port: 9443 } });
  assert.deepEqual(s.get().https, { enabled: true, port: 9443 });
  assert.equal(s.get().config_version, 2);
  assert.deepEqual(seen, [true]);
  assert.throws(() => s.patch({ https: { port: 70000 } })); // CHECK constraint
  assert.equal(s.get().https.port, 9443);
  s.close();
});

Deno.test("a database made before the HTTPS setting keeps its data and gets HTTPS off", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Build a version-1 database by hand: only the first migration.
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${dir}/m32-server.sqlite`);
    db.exec(MIGRATIONS[0]);
    db.exec("PRAGMA user_version = 1");
    db.exec("UPDATE network_config SET dscp = 34 WHERE id = 1");
    db.exec("UPDATE meta SET value = '7' WHERE key = 'config_version'");
    db.close();
    const s = ConfigStore.open(dir);
    assert.equal(s.schemaVersion, MIGRATIONS.length);
    assert.ok(MIGRATIONS.length >= 2);
    assert.equal(s.get().network.dscp, 34);
    assert.equal(s.get().config_version, 7);
    assert.deepEqual(s.get().https, { enabled: false, port: 8443 });
    s.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Counts `prepare` calls on the store's connection from now on. */
function countPrepares(s: ConfigStore): () => number {
  let n = 0;
  const prepare = s.db.prepare.bind(s.db);
  s.db.prepare = ((sql: string) => (n++, prepare(sql))) as typeof s.db.prepare;
  return () => n;
}

Deno.test("get() and getChannels() prepare no statement per call, before or after a write", () => {
  const s = new ConfigStore(":memory:");
  s.get();
  s.getChannels();
  const prepares = countPrepares(s);
  for (let i = 0; i < 5; i++) {
    s.get();
    s.getChannels();
  }
  assert.equal(prepares(), 0, "reads");
  s.setJitter({ interpolate: 110, drop: 220 });
  const afterWrite = prepares();
  s.get();
  s.getChannels();
  assert.equal(prepares(), afterWrite, "the read after a write");
  s.close();
});

Deno.test("every write path is seen by the next get(): patch, channels, rate step, a raw write in tx()", () => {
  const s = new ConfigStore(":memory:");
  assert.equal(s.get().network.dscp, 46);
  s.patch({ network: { dscp: 34 } });
  assert.equal(s.get().network.dscp, 34);
  s.setJitter({ interpolate: 120, drop: 250 });
  assert.deepEqual(s.get().jitter, { interpolate: 120, drop: 250 });
  s.setSampleRate(32000);
  assert.equal(s.get().audio.sample_rate, 32000);
  assert.equal(s.get().config_version, 4);
  const ch = s.getChannels();
  ch[2].enabled = false;
  s.setChannels(ch);
  assert.equal(s.getChannels()[2].enabled, false);
  assert.equal(s.get().config_version, 5);
  s.tx(() => s.db.exec("UPDATE network_config SET dscp = 10 WHERE id = 1"));
  assert.equal(s.get().network.dscp, 10);
  // A transaction that fails leaves the previous values, and get() says so.
  assert.throws(() =>
    s.tx(() => {
      s.db.exec("UPDATE network_config SET dscp = 12 WHERE id = 1");
      assert.equal(s.get().network.dscp, 12, "seen inside the transaction");
      throw new Error("abort");
    }), /abort/);
  assert.equal(s.get().network.dscp, 10);
  s.close();
});

Deno.test("get() and getChannels() return copies: a caller changing one cannot change the next", () => {
  const s = new ConfigStore(":memory:");
  const a = s.get();
  a.audio.sample_rate = 1;
  a.network.heartbeat_timeout_s = 999;
  a.alsa.device = "hw:9";
  a.jitter.drop = 0;
  const ch = s.getChannels();
  ch[0].name = "changed";
  ch.pop();
  const b = s.get();
  assert.equal(b.audio.sample_rate, 48000);
  assert.equal(b.network.heartbeat_timeout_s, DEFAULT_CONFIG.network.heartbeat_timeout_s);
  assert.equal(b.alsa.device, DEFAULT_CONFIG.alsa.device);
  assert.equal(b.jitter.drop, 200);
  assert.equal(s.getChannels().length, 32);
  assert.equal(s.getChannels()[0].name, "CH01");
  s.close();
});

Deno.test("aes67 section: stored with §13's defaults, patched per key, survives a reopen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let s = ConfigStore.open(dir);
    assert.deepEqual(s.get().aes67, DEFAULT_CONFIG.aes67);
    const v = s.configVersion;
    s.patch({ aes67: { output: { enabled: true, ttl: 4 }, input: { session: "box-a" } } });
    assert.equal(s.configVersion, v + 1);
    s.close();
    s = ConfigStore.open(dir);
    assert.deepEqual(s.get().aes67, {
      output: { ...DEFAULT_CONFIG.aes67.output, enabled: true, ttl: 4 },
      input: { enabled: false, session: "box-a" },
    });
    assert.throws(() => s.patch({ aes67: { output: { ptime_us: 500 } } })); // CHECK constraint
    s.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
