import assert from "node:assert/strict";
import { ConfigStore } from "../config/store.ts";
import type { Config } from "../config/types.ts";
import { getLogger } from "../util/log.ts";
import { ConfigChangePolicy } from "./config_change.ts";

function setup() {
  const store = new ConfigStore(":memory:");
  const ended: Record<string, unknown>[] = [];
  const wire: [Config, Config][] = [];
  let captureRestarts = 0;
  const policy = new ConfigChangePolicy({
    config: () => store.get(),
    channels: () => store.getChannels(),
    applyWire: (prev, next) => void wire.push([prev, next]),
    endAll: (_reason, event) => (ended.push(event), 3),
    restartCapture: () => void captureRestarts++,
    log: getLogger("test"),
  });
  store.onChange(policy.committed);
  return { store, policy, ended, wire, captureRestarts: () => captureRestarts };
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
