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
