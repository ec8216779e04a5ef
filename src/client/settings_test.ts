import assert from "node:assert/strict";
import {
  addGroup,
  defaultChannelSettings,
  followEngineer,
  linkChannels,
  loadSettings,
  MemoryStorage,
  moreMeGain,
  moveChannel,
  normalizeSettings,
  reconcileChannels,
  renameChannel,
  resetToEngineer,
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

// ---- the musician's own layout (issue #13 item 6) ---------------------------

const JPEG = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==";

Deno.test("colour, picture, links and groups survive a save; unsafe or broken values do not", () => {
  const st = new MemoryStorage();
  const raw = {
    channels: [
      { id: 1, color: "#E04040", image: JPEG, custom_name: true, name: "Me", custom_order: true },
      { id: 2, color: "red; background:url(x)", image: "javascript:alert(1)" },
      { id: 3, image: "data:image/jpeg;base64," + "A".repeat(60_000) },
      { id: 7, link: { with: 8, width: 0.5, balance: 3 } },
      { id: 8, link: { with: 9 } }, // 8 is already 7's partner: dropped
      { id: 9, link: { with: 9 } }, // itself: dropped
    ],
    groups: [
      { id: 1, name: " Drums ", members: [1, 2, 8], volume: 5, mute: true },
      { id: 1, name: "duplicate id", members: [] },
      { id: 2, name: "", members: [2, 3] }, // 2 is in Drums already
    ],
  };
  const s = normalizeSettings(raw, SERVER);
  const [c1, c2, c3, c7, c8, c9] = s.channels;
  assert.equal(c1.color, "#e04040");
  assert.equal(c1.image, JPEG);
  assert.equal(c1.custom_name, true);
  assert.equal(c1.custom_order, true);
  assert.equal(c2.color, null, "not a plain colour");
  assert.equal(c2.image, null, "not a picture");
  assert.equal(c3.image, null, "too large for the phone's storage");
  assert.deepEqual(c7.link, { with: 8, width: 0.5, balance: 1 });
  assert.equal(c8.link, undefined);
  assert.equal(c9.link, undefined);
  assert.deepEqual(s.groups, [
    { id: 1, name: "Drums", members: [1, 2], volume: 2, mute: true }, // 8 follows 7
    { id: 2, name: "Group 2", members: [3], volume: 1, mute: false },
  ]);
  saveSettings(st, s);
  assert.deepEqual(loadSettings(st, SERVER), s);
});

Deno.test("a musician's names and order win over the engineer's; reset brings the engineer's back", () => {
  const chans = [1, 2, 3].map((id) => defaultChannelSettings(id));
  const engineer = [{ id: 1, name: "Kick" }, { id: 2, name: "Snare" }, { id: 3, name: "Keys" }];
  followEngineer(chans, engineer);
  assert.deepEqual(chans.map((c) => c.name), ["Kick", "Snare", "Keys"]);
  renameChannel(chans[2], "  My keys ", "Keys");
  assert.ok(moveChannel(chans, 3, -1, () => true));
  assert.ok(moveChannel(chans, 3, -1, () => true));
  assert.ok(!moveChannel(chans, 3, -1, () => true), "already first");
  const shown = () => [...chans].sort((a, b) => a.order - b.order).map((c) => c.name);
  assert.deepEqual(shown(), ["My keys", "Kick", "Snare"]);
  // The engineer renames and reorders: the musician's name and order stay, the rest follows.
  const renamed = [{ id: 2, name: "Snare top" }, { id: 1, name: "BD" }, { id: 3, name: "Piano" }];
  followEngineer(chans, renamed);
  assert.deepEqual(shown(), ["My keys", "BD", "Snare top"]);
  // Moving swaps with the next strip shown: a hidden one between stays where it is.
  chans[0].hidden = true; // BD
  assert.ok(moveChannel(chans, 2, -1, (c) => !c.hidden));
  assert.deepEqual(shown(), ["Snare top", "BD", "My keys"]);
  // Renamed to the engineer's name (or nothing): not custom any more.
  renameChannel(chans[2], "", "Piano");
  assert.equal(chans[2].custom_name, undefined);
  assert.equal(chans[2].name, "Piano");
  resetToEngineer(chans, renamed);
  assert.deepEqual(shown(), ["Snare top", "BD", "Piano"]);
  assert.ok(chans.every((c) => !c.custom_name && !c.custom_order));
});

Deno.test("links pair two channels once; groups are capped", () => {
  const s = normalizeSettings({ channels: [1, 2, 3].map((id) => ({ id })) }, SERVER);
  assert.ok(linkChannels(s, 1, 2));
  assert.ok(!linkChannels(s, 2, 3), "2 is in a pair already");
  assert.ok(!linkChannels(s, 3, 3));
  for (let i = 0; i < 8; i++) assert.ok(addGroup(s, `G${i}`));
  assert.equal(addGroup(s, "one too many"), null);
});
