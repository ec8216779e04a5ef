import assert from "node:assert/strict";
import { DEFAULT_CONFIG, defaultChannels } from "./types.ts";
import { aes67InputSignature, mappingSignature, patchChangesWire, wireSignature } from "./wire.ts";

const cfg = { ...structuredClone(DEFAULT_CONFIG), config_version: 1 };

Deno.test("audio, network and ALSA edits change the wire; jitter, adaptation and HTTPS do not", () => {
  assert.equal(patchChangesWire({ audio: { encoding: "L16" } }), true);
  assert.equal(patchChangesWire({ network: { dscp: 0 } }), true);
  assert.equal(patchChangesWire({ alsa: { device: "hw:X32" } }), true);
  assert.equal(patchChangesWire({ jitter: { drop: 300 }, adaptation: { hold_s: 5 } }), false);
  assert.equal(patchChangesWire({ https: { enabled: true } }), false);
  assert.equal(patchChangesWire({}), false);
});

Deno.test("a key the command line overrides does not change the wire when stored", () => {
  const overridden = new Set(["alsa.device"]);
  assert.equal(patchChangesWire({ alsa: { device: "hw:1" } }, overridden), false);
  assert.equal(
    patchChangesWire({ alsa: { device: "hw:1" }, network: { dscp: 0 } }, overridden),
    true,
  );
});

Deno.test("renaming a channel keeps the wire signature; reordering or disabling changes it", () => {
  const channels = defaultChannels();
  const base = wireSignature(cfg, channels);
  const renamed = channels.map((c) => (c.id === 2 ? { ...c, name: "Lead Vox" } : c));
  assert.equal(wireSignature(cfg, renamed), base);
  assert.equal(mappingSignature(renamed), mappingSignature(channels));
  const off = channels.map((c) => (c.id === 4 ? { ...c, enabled: false } : c));
  assert.notEqual(mappingSignature(off), mappingSignature(channels));
  const swapped = channels.map((
    c,
  ) => (c.id === 1 ? { ...c, order: 2 } : c.id === 2 ? { ...c, order: 1 } : c));
  assert.notEqual(wireSignature(cfg, swapped), base);
  assert.notEqual(wireSignature({ ...cfg, network: { ...cfg.network, dscp: 0 } }, channels), base);
  assert.equal(wireSignature({ ...cfg, jitter: { interpolate: 1, drop: 2 } }, channels), base);
});

Deno.test("aes67.input reopens the source only when the source is (or becomes) the AES67 input", () => {
  const sig = aes67InputSignature;
  const off = { enabled: false, session: "" };
  // Off: choosing a session only stores it.
  assert.equal(sig({ enabled: false, session: "Stage A" }), sig(off));
  // Turning it on or off, or another session while on, reopens the source.
  assert.notEqual(sig({ enabled: true, session: "Stage A" }), sig({ ...off, session: "Stage A" }));
  assert.notEqual(sig({ enabled: true, session: "Stage A" }), sig({ enabled: true, session: "B" }));
  assert.equal(sig({ enabled: true, session: "B" }), sig({ enabled: true, session: "B" }));
  // `--source aes67` for this run reads the stored session even with the input off.
  assert.notEqual(sig({ enabled: false, session: "B" }, true), sig(off, true));
});
