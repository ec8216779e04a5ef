import assert from "node:assert/strict";
import { FileSettingsStorage } from "./settings_file.ts";
import { defaultChannelSettings, loadSettings, saveSettings } from "./settings.ts";

Deno.test("file settings storage persists settings per server across instances", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m32-client-settings-" });
  try {
    const path = `${dir}/client-settings.json`;
    const a = loadSettings(new FileSettingsStorage(path), "a:8080");
    a.channels.push({ ...defaultChannelSettings(3, "Keys"), pan: 0.5 });
    saveSettings(new FileSettingsStorage(path), a);
    const b = loadSettings(new FileSettingsStorage(path), "b:8080");
    b.compression = "opus";
    saveSettings(new FileSettingsStorage(path), b);
    const again = new FileSettingsStorage(path);
    assert.equal(loadSettings(again, "a:8080").channels[0].pan, 0.5);
    assert.equal(loadSettings(again, "b:8080").compression, "opus");
    await Deno.writeTextFile(path, "[broken");
    assert.deepEqual(loadSettings(new FileSettingsStorage(path), "a:8080").channels, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
