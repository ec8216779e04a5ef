import assert from "node:assert/strict";
import {
  defaultChannelSettings,
  loadSettings,
  MemoryStorage,
  moreMeGain,
  normalizeSettings,
  reconcileChannels,
  saveSettings,
  settingsKey,
} from "./settings.ts";

const SERVER = "m32-server.local:8080";

Deno.test("settings load defaults when nothing or garbage is stored", () => {
  const st = new MemoryStorage();
  assert.deepEqual(loadSettings(st, SERVER), {
    server: SERVER,
    master: { volume: 1, limit: true },
    sample_rate: null,
    compression: "none",
    channels: [],
  });
  st.setItem(settingsKey(SERVER), "{not json");
  assert.deepEqual(loadSettings(st, SERVER).channels, []);
});

Deno.test("settings load the contract example and round-trip through save", () => {
  const st = new MemoryStorage();
  const example = {
    server: SERVER,
    master: { volume: 0.9, limit: { enabled: true, threshold_db: -3 } },
    sample_rate: 48000,
    compression: "opus" as const,
    channels: [{
      id: 1,
      name: "Vocal",
      color: "#e04040",
      image: null,
      mute: false,
      hidden: false,
      order: 1,
      volume: 0.8,
      solo: false,
      pan: -0.2,
      eq: { low: -3, mid: 0, high: 2.5 },
      limit: { enabled: true, threshold_db: -6 },
    }],
  };
  // Stored exactly as §11 shows it (a client's own fields may be absent: `receive` defaults on,
  // `me` off).
  st.setItem(settingsKey(SERVER), JSON.stringify(example));
  const loaded = loadSettings(st, SERVER);
  assert.deepEqual(loaded, {
    ...example,
    channels: [{ ...example.channels[0], receive: true, me: false }],
  });
  saveSettings(st, loaded);
  assert.deepEqual(loadSettings(st, SERVER), loaded);
  assert.deepEqual(loadSettings(st, "other:8080").channels, []); // stored per server
});

Deno.test("settings clamp out-of-range values and accept a boolean limit", () => {
  const s = normalizeSettings({
    compression: "mp3",
    channels: [
      { id: 3, volume: 5, pan: -4, eq: { low: 30, mid: "x", high: -13 }, limit: true },
      { id: 3, name: "dup" },
      { id: 0 },
      "junk",
    ],
  }, SERVER);
  assert.equal(s.compression, "none");
  assert.equal(s.channels.length, 1);
  const c = s.channels[0];
  assert.deepEqual([c.volume, c.pan, c.eq, c.limit], [2, -1, { low: 12, mid: 0, high: -12 }, true]);
});

Deno.test("settings keep the listener's lock with the mix; anything but true is unlocked", () => {
  const st = new MemoryStorage();
  const s = loadSettings(st, SERVER);
  assert.equal(s.locked, undefined);
  s.locked = true;
  saveSettings(st, s);
  assert.equal(loadSettings(st, SERVER).locked, true);
  assert.equal(normalizeSettings({ locked: "yes" }, SERVER).locked, undefined);
});

Deno.test("reconcile adds mapped channels and keeps settings of unmapped ones", () => {
  const st = new MemoryStorage();
  const s = loadSettings(st, SERVER);
  s.channels.push({ ...defaultChannelSettings(7, "Bass"), volume: 0.5 });
  s.channels.push({ ...defaultChannelSettings(1, "Vocal"), mute: true });
  const active = reconcileChannels(s, [
    { id: 5, name: "CH05", order: 1 },
    { id: 1, name: "CH01", order: 2 },
  ]);
  assert.deepEqual(active.map((c) => [c.id, c.name]), [[5, "CH05"], [1, "Vocal"]]);
  assert.equal(active[1].mute, true);
  assert.deepEqual(s.channels.map((c) => c.id), [1, 5, 7]); // 7 not mapped, still kept
  saveSettings(st, s);
  assert.equal(loadSettings(st, SERVER).channels.find((c) => c.id === 7)?.volume, 0.5);
});

Deno.test("more me lowers every channel not marked as the musician's own, within 0–12 dB", () => {
  const s = normalizeSettings({
    master: { volume: 1, limit: true, more_me_db: 40 },
    channels: [{ id: 1, me: true }, { id: 2 }],
  }, SERVER);
  assert.equal(s.master.more_me_db, 12, "clamped");
  assert.equal(moreMeGain(s.master, s.channels[0]), 1);
  assert.ok(Math.abs(20 * Math.log10(moreMeGain(s.master, s.channels[1])) + 12) < 1e-9);
  assert.equal(moreMeGain({ volume: 1, limit: true }, s.channels[1]), 1, "absent: off");
  assert.equal(s.channels[1].me, false);
});
