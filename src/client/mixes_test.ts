import assert from "node:assert/strict";
import {
  applyMix,
  deletePreset,
  exportMix,
  importMix,
  loadPresets,
  MAX_PRESETS,
  MixFileError,
  savePreset,
  snapshot,
} from "./mixes.ts";
import { defaultChannelSettings, defaultSettings, MemoryStorage } from "./settings.ts";

const NOW = "2026-12-04T15:00:00.000Z";

function settings() {
  const s = defaultSettings("box:8080");
  s.channels = [1, 2, 3].map((id) => defaultChannelSettings(id));
  return s;
}

Deno.test("a saved mix brings back levels, pans, mutes and EQ by channel id, not names or order", () => {
  const s = settings();
  s.channels[0].volume = 0.5;
  s.channels[1].mute = true;
  s.channels[2].eq.high = 6;
  s.master.volume = 0.7;
  const saved = snapshot(s, "  Sunday set ", NOW);
  assert.equal(saved.name, "Sunday set");
  // Everything changes afterwards, including the engineer's names and order.
  s.channels[0].volume = 1.5;
  s.channels[1].mute = false;
  s.channels[2].eq.high = 0;
  s.channels[0].name = "Kick";
  s.channels[0].order = 3;
  s.master.volume = 1;
  assert.equal(applyMix(s, saved), 3);
  assert.equal(s.channels[0].volume, 0.5);
  assert.equal(s.channels[1].mute, true);
  assert.equal(s.channels[2].eq.high, 6);
  assert.equal(s.master.volume, 0.7);
  assert.equal(s.channels[0].name, "Kick", "names stay the engineer's");
  assert.equal(s.channels[0].order, 3, "order stays");
  // The preset is a copy: changing the mix does not change it.
  s.channels[2].eq.high = -3;
  assert.equal(saved.channels[2].eq.high, 6);
});

Deno.test("presets are kept per box, newest first, replaced by name, deleted, and bounded", () => {
  const st = new MemoryStorage();
  const s = settings();
  savePreset(st, "box:8080", snapshot(s, "A", NOW));
  savePreset(st, "box:8080", snapshot(s, "B", NOW));
  s.channels[0].volume = 0.3;
  const list = savePreset(st, "box:8080", snapshot(s, "A", NOW));
  assert.deepEqual(list.map((p) => p.name), ["A", "B"]);
  assert.equal(loadPresets(st, "box:8080")[0].channels[0].volume, 0.3);
  assert.deepEqual(loadPresets(st, "other:8080"), []);
  assert.deepEqual(deletePreset(st, "box:8080", "A").map((p) => p.name), ["B"]);
  for (let i = 0; i < MAX_PRESETS + 5; i++) savePreset(st, "box:8080", snapshot(s, `M${i}`, NOW));
  assert.equal(loadPresets(st, "box:8080").length, MAX_PRESETS);
  st.setItem("m32-mixes:box:8080", "{broken");
  assert.deepEqual(loadPresets(st, "box:8080"), [], "broken storage loses nothing else");
});

Deno.test("a mix file round-trips, and its numbers are clamped to the settings' ranges", () => {
  const s = settings();
  s.channels[1].pan = -0.4;
  const text = exportMix(snapshot(s, "To the other phone", NOW));
  const back = importMix(text);
  assert.equal(back.name, "To the other phone");
  assert.equal(back.saved_at, NOW);
  assert.equal(back.channels[1].pan, -0.4);
  const wild = JSON.parse(text);
  wild.channels[0].volume = 99;
  wild.channels[0].eq.low = -40;
  const clamped = importMix(JSON.stringify(wild));
  assert.equal(clamped.channels[0].volume, 2);
  assert.equal(clamped.channels[0].eq.low, -12);
});

Deno.test("a file that is not a mix gets a clear error", () => {
  const bad: [string, RegExp][] = [
    ["not json", /not JSON/],
    ["[1,2]", /not a JSON object/],
    [JSON.stringify({ format: "other" }), /format "other"/],
    [JSON.stringify({ format: "m32-mix", version: 9, channels: [] }), /version 9/],
    [JSON.stringify({ format: "m32-mix", version: 1 }), /no channels/],
    ["x".repeat(3_000_000), /at most 2097152 bytes, this one has 3000000/],
  ];
  for (const [text, msg] of bad) {
    assert.throws(() => importMix(text), (e) => {
      assert.ok(e instanceof MixFileError);
      assert.match((e as Error).message, msg);
      return true;
    });
  }
  assert.throws(() => snapshot(settings(), "   ", NOW), /needs a name/);
});

Deno.test("a mix carries the musician's own names, order, links and groups; loading one without them restores the engineer's", () => {
  const s = settings();
  s.channels[2].name = "My keys";
  s.channels[2].custom_name = true;
  s.channels.forEach((c, i) => (c.order = 3 - i, c.custom_order = true));
  s.channels[0].link = { with: 2, width: 0.5, balance: 0 };
  s.groups = [{ id: 1, name: "Band", members: [1, 3], volume: 0.7, mute: false }];
  s.channels[0].image = "data:image/jpeg;base64,AAAA";
  const mine = snapshot(s, "Mine", NOW);
  assert.equal(mine.channels[0].name, undefined, "the engineer's name is not the mix's");
  assert.equal(mine.channels[0].image, undefined, "no pictures in a preset");
  assert.equal(snapshot(s, "File", NOW, { images: true }).channels[0].image, s.channels[0].image);

  const other = settings(); // a phone that has none of it
  applyMix(other, importMix(exportMix(mine)));
  assert.equal(other.channels[2].name, "My keys");
  assert.deepEqual(other.channels.map((c) => c.order), [3, 2, 1]);
  assert.deepEqual(other.channels[0].link, { with: 2, width: 0.5, balance: 0 });
  assert.deepEqual(other.groups, s.groups);
  assert.equal(other.channels[0].image, null, "a preset does not clear a phone's pictures");

  // Back to a mix without any of it: flags off (the page then takes the engineer's names).
  applyMix(s, snapshot(settings(), "Plain", NOW));
  assert.ok(s.channels.every((c) => !c.custom_name && !c.custom_order && !c.link));
  assert.equal(s.groups, undefined);
  assert.equal(s.channels[0].image, "data:image/jpeg;base64,AAAA", "pictures stay");
});

Deno.test("a mix names channels this phone has not seen yet: kept for when they appear", () => {
  const s = settings();
  const big = defaultSettings("box:8080");
  big.channels = [1, 2, 3, 4].map((id) => defaultChannelSettings(id));
  big.channels[3].mute = true;
  assert.equal(applyMix(s, snapshot(big, "Big", NOW)), 4);
  assert.deepEqual(s.channels.map((c) => c.id), [1, 2, 3, 4]);
  assert.equal(s.channels[3].mute, true);
});
