import assert from "node:assert/strict";
import {
  compactMix,
  decodeMix,
  encodeMix,
  MAX_MIX_CODE_CHARS,
  mixCodeOf,
  mixLink,
} from "./mix_code.ts";
import { applyMix, MixFileError, snapshot } from "./mixes.ts";
import { defaultChannelSettings, defaultSettings, linkChannels } from "./settings.ts";

const NOW = "2026-12-04T15:00:00.000Z";

/** A full 32-channel mix as a musician leaves it: every channel touched somewhere. */
function busyMix() {
  const s = defaultSettings("box:8080");
  s.channels = Array.from({ length: 32 }, (_, i) => defaultChannelSettings(i + 1));
  s.channels.forEach((c, i) => {
    c.volume = [0.35, 0.8, 1.25, 0.62][i % 4];
    c.pan = [-0.6, 0, 0.45][i % 3];
    c.mute = i % 7 === 0;
    c.eq = { low: i % 5 === 0 ? -3.5 : 0, mid: 0, high: i % 6 === 0 ? 2 : 0 };
    c.color = i % 4 === 0 ? "#e04040" : null;
    c.image = "data:image/jpeg;base64," + "A".repeat(4000); // pictures never go in a code
    c.me = i === 4;
    c.name = `CH${i + 1}`;
  });
  s.channels[4].name = "My vocal";
  s.channels[4].custom_name = true;
  assert.ok(linkChannels(s, 7, 8));
  s.channels[6].link!.width = 0.75;
  s.groups = [{ id: 1, name: "Drums", members: [1, 2, 3, 4, 5, 6], volume: 0.6, mute: false }];
  s.master = { volume: 0.9, limit: true, more_me_db: 6 };
  return s;
}

Deno.test("a mix code round-trips: export → import gives the same settings, without pictures", async () => {
  const s = busyMix();
  const mix = snapshot(s, "Sunday set", NOW);
  const code = await encodeMix(mix);
  const back = await decodeMix(code, NOW);
  assert.deepEqual(back, mix);
  // Applied on a fresh phone, the mix is the same as on the first (pictures are the phone's own).
  const other = defaultSettings("box:8080");
  applyMix(other, back);
  const strip = (x: ReturnType<typeof defaultSettings>) =>
    x.channels.map(({ image: _i, name, ...c }) => (c.custom_name ? { ...c, name } : c));
  assert.deepEqual(strip(other), strip(s));
  assert.deepEqual(other.groups, s.groups);
  assert.deepEqual(other.master, s.master);
  // It fits a QR code a phone camera reads easily (version ≤ 25 at level M holds 1 000+ bytes).
  const link = mixLink("http://192.168.1.20:8080/?transport=websocket", code);
  console.log(`  32-channel mix: link ${link.length} characters (code ${code.length})`);
  assert.ok(link.length < 900, `link has ${link.length} characters`);
  // A mix with its pictures (as a file has them) makes the same code: pictures are left out.
  assert.equal(await encodeMix(snapshot(s, "Sunday set", NOW, { images: true })), code);
});

Deno.test("a code rounds numbers to 4 decimals and leaves defaults out", () => {
  const s = defaultSettings("box");
  s.channels = [defaultChannelSettings(1), defaultChannelSettings(2)];
  s.channels[0].volume = 0.1 + 0.2; // 0.30000000000000004 from a fader's arithmetic
  const c = compactMix(snapshot(s, "x", NOW));
  assert.deepEqual(c.c, [{ id: 1, volume: 0.3 }, { id: 2 }]);
});

Deno.test("a link or a pasted code is found; anything else is a clear error", async () => {
  const code = await encodeMix(snapshot(busyMix(), "A", NOW));
  const link = mixLink("https://m32-server.local:8443/", code);
  assert.equal(link, `https://m32-server.local:8443/#mix=${code}`);
  assert.equal(mixCodeOf(link), code);
  assert.equal(mixCodeOf(`  ${code}\n`), code);
  assert.equal(mixCodeOf("hello"), null);
  assert.equal(mixCodeOf("https://example.com/#other=1"), null);
  for (const bad of ["", "not base64!", code.slice(0, code.length / 2), "x".repeat(9000)]) {
    await assert.rejects(() => decodeMix(bad, NOW), MixFileError, JSON.stringify(bad.slice(0, 20)));
  }
  // Valid deflate of something that is not a mix.
  const other = await encodeMix({
    name: "x",
    saved_at: NOW,
    master: { volume: 1, limit: true },
    channels: [],
  });
  assert.equal((await decodeMix(other, NOW)).channels.length, 0);
});

Deno.test("a crafted code that inflates past the limit is refused before it fills memory", async () => {
  // 5 MB of spaces deflate to a few KiB: a short QR code or link, a huge mix.
  const json = `{"v":1,"n":"x","c":[]${" ".repeat(5_000_000)}}`;
  const stream = new Blob([json]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  const code = btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  assert.ok(code.length < MAX_MIX_CODE_CHARS, `the bomb fits a code (${code.length} chars)`);
  await assert.rejects(
    () => decodeMix(code, NOW),
    (e: unknown) => e instanceof MixFileError && e.code === "code_damaged",
  );
});
