import assert from "node:assert/strict";
import { ConfigStore } from "../config/store.ts";
import { type Config, mappedChannels } from "../config/types.ts";
import { shownChannels } from "../session/shown_channels.ts";
import { getLogger } from "../util/log.ts";
import { ConfigChangePolicy } from "./config_change.ts";

function setup() {
  const store = new ConfigStore(":memory:");
  const ended: Record<string, unknown>[] = [];
  const told: Record<string, unknown>[] = [];
  const wire: [Config, Config][] = [];
  let captureRestarts = 0;
  const policy = new ConfigChangePolicy({
    config: () => store.get(),
    channels: () => store.getChannels(),
    applyWire: (prev, next) => void wire.push([prev, next]),
    shownChannels: () => shownChannels(mappedChannels(store.getChannels())),
    broadcast: (event) => (told.push(event), 2),
    endAll: (_reason, event) => (ended.push(event), told.push({ ended: event.type }), 3),
    restartCapture: () => void captureRestarts++,
    log: getLogger("test"),
  });
  store.onChange(policy.committed);
  return { store, policy, ended, told, wire, captureRestarts: () => captureRestarts };
}

Deno.test("a sample rate change ends every session with its reason and the new rate", () => {
  const { store, policy, ended, wire, captureRestarts } = setup();
  policy.changeReason("latency too high, lowering sample rate");
  store.setSampleRate(32000);
  assert.equal(ended.length, 1);
  assert.equal(ended[0].type, "config_changed");
  assert.equal(ended[0].reason, "latency too high, lowering sample rate");
  assert.equal(ended[0].new_sample_rate, 32000);
  assert.equal(ended[0].config_version, store.configVersion);
  assert.equal(wire.length, 1);
  assert.equal(wire[0][0].audio.sample_rate, 48000);
  assert.equal(wire[0][1].audio.sample_rate, 32000);
  assert.equal(captureRestarts(), 1);
});

Deno.test("a channel rename or a jitter change ends no session and drops the reason set for it", () => {
  const { store, policy, ended } = setup();
  policy.changeReason("admin renamed channels");
  const ch = store.getChannels();
  ch[0].name = "Kick";
  store.setChannels(ch);
  store.setJitter({ interpolate: 120, drop: 250 });
  assert.equal(ended.length, 0);
  // The next wire change carries no stale reason, and no new_sample_rate.
  const mapped = store.getChannels();
  mapped[3].enabled = false;
  store.setChannels(mapped);
  assert.equal(ended.length, 1);
  assert.equal(ended[0].reason, "configuration changed");
  assert.equal("new_sample_rate" in ended[0], false);
});

Deno.test("a rename is told to every client at once as channels_changed, and ends no session", () => {
  const { store, ended, told } = setup();
  const ch = store.getChannels();
  ch[1].name = "Snare";
  store.setChannels(ch);
  assert.equal(ended.length, 0);
  assert.equal(told.length, 1);
  assert.equal(told[0].type, "channels_changed");
  assert.equal(told[0].config_version, store.configVersion);
  const channels = told[0].channels as { id: number; name: string; order: number }[];
  assert.deepEqual(channels[1], { id: 2, name: "Snare", order: 2 });
  assert.equal(channels.length, mappedChannels(store.getChannels()).length);
  // A write that changes nothing phones show tells nobody.
  store.setJitter({ interpolate: 120, drop: 250 });
  assert.equal(told.length, 1);
});

Deno.test("a reorder is told as channels_changed before the sessions end for the new send order", () => {
  const { store, told } = setup();
  const ch = store.getChannels();
  [ch[0].order, ch[2].order] = [ch[2].order, ch[0].order];
  store.setChannels(ch);
  assert.deepEqual(told.map((t) => t.type ?? `ended:${t.ended}`), [
    "channels_changed",
    "ended:config_changed",
  ]);
  const ids = (told[0].channels as { id: number }[]).slice(0, 3).map((c) => c.id);
  assert.deepEqual(ids, [3, 2, 1]);
});
