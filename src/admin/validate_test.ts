import assert from "node:assert/strict";
import { type Config, DEFAULT_CONFIG, defaultChannels } from "../config/types.ts";
import { checkChannels, checkConfigPatch, checkHttps, onlyNamesChanged } from "./validate.ts";

const current: Config = structuredClone({ ...DEFAULT_CONFIG, config_version: 3 });

function rejects(body: unknown, pattern: RegExp) {
  const r = checkConfigPatch(current, body);
  assert.equal(r.ok, false, `expected ${JSON.stringify(body)} to be refused`);
  if (!r.ok) assert.match(r.message, pattern);
}

Deno.test("config patch refuses unknown sections and keys", () => {
  rejects({ video: {} }, /unknown section/);
  rejects({ audio: { bitrate: 1 } }, /audio\.bitrate: unknown key in audio/);
  rejects({ network: { dscp: 1, port: 2 } }, /unknown key in network/);
  rejects([], /JSON object/);
  rejects({ audio: [] }, /audio must be a JSON object/);
  rejects(null, /./);
});

Deno.test("config patch refuses every out-of-range or mistyped value", () => {
  const bad: [unknown, RegExp][] = [
    [{ audio: { native_sample_rate: 32000 } }, /native_sample_rate must be one of 48000, 44100/],
    [{ audio: { sample_rate: 22050 } }, /sample_rate must be one of/],
    [{ audio: { encoding: "L32" } }, /encoding/],
    [{ audio: { ptime_ms: 3 } }, /ptime_ms/],
    [{ audio: { ptime_ms: "5" } }, /ptime_ms/],
    [{ audio: { max_datagram_bytes: 255 } }, /at least 256/],
    [{ audio: { max_datagram_bytes: 1473 } }, /at most 1472/],
    [{ audio: { max_datagram_bytes: 1000.5 } }, /integer/],
    [{ audio: { test_mode: "on" } }, /test_mode/],
    [{ network: { dscp: -1 } }, /dscp/],
    [{ network: { dscp: 64 } }, /dscp/],
    [{ network: { max_clients: 0 } }, /max_clients/],
    [{ network: { max_clients: 101 } }, /max_clients/],
    [{ network: { heartbeat_timeout_s: 4 } }, /heartbeat_timeout_s/],
    [{ network: { heartbeat_timeout_s: 3601 } }, /heartbeat_timeout_s/],
    [{ network: { ext_interval_ms: 10 } }, /ext_interval_ms/],
    [{ network: { ext_interval_ms: 60_001 } }, /ext_interval_ms/],
    [{ jitter: { interpolate: 0 } }, /interpolate/],
    [{ jitter: { drop: 10_001 } }, /drop/],
    [{ jitter: { interpolate: 200, drop: 200 } }, /below drop/],
    [{ jitter: { interpolate: 300 } }, /below drop/],
    [{ adaptation: { enabled: "yes" } }, /enabled/],
    [{ adaptation: { latency_ms: 0 } }, /latency_ms/],
    [{ adaptation: { hold_s: 3601 } }, /hold_s/],
    [{ adaptation: { recover_hold_s: 86_401 } }, /recover_hold_s/],
    [{ alsa: { device: "x".repeat(129) } }, /128/],
    [{ alsa: { device: "hw:1\n" } }, /printable ASCII/],
    [{ alsa: { device: "hw:ä" } }, /printable ASCII/],
    [{ alsa: { device: 5 } }, /string/],
    [{ audio: { native_sample_rate: 44100, sample_rate: 48000 } }, /above native_sample_rate/],
  ];
  for (const [body, pattern] of bad) rejects(body, pattern);
});

Deno.test("config patch keeps only the keys that change", () => {
  const r = checkConfigPatch(current, {
    audio: { encoding: "L24", ptime_ms: 2.5 },
    network: { dscp: 46, ext_interval_ms: 0 },
    adaptation: { enabled: false },
    alsa: { device: "hw:X32" },
  });
  assert.ok(r.ok);
  assert.deepEqual(r.value.patch, {
    audio: { ptime_ms: 2.5 },
    network: { ext_interval_ms: 0 },
    adaptation: { enabled: false },
    alsa: { device: "hw:X32" },
  });
  assert.deepEqual(r.value.changedKeys, [
    "audio.ptime_ms",
    "network.ext_interval_ms",
    "adaptation.enabled",
    "alsa.device",
  ]);
});

Deno.test("lowering the native rate alone lowers the sample rate to fit", () => {
  const r = checkConfigPatch(current, { audio: { native_sample_rate: 44100 } });
  assert.ok(r.ok);
  assert.deepEqual(r.value.patch, { audio: { native_sample_rate: 44100, sample_rate: 44100 } });
});

Deno.test("an empty patch is valid and changes nothing; config_version is passed on", () => {
  const r = checkConfigPatch(current, { config_version: 3 });
  assert.ok(r.ok);
  assert.deepEqual(r.value.changedKeys, []);
  assert.equal(r.value.expectedVersion, 3);
});

Deno.test("the channel table needs all 32 ids once, names 1–32 chars, unique orders when sent", () => {
  const ok = defaultChannels();
  assert.ok(checkChannels(ok).ok);
  const cases: [(c: ReturnType<typeof defaultChannels>) => unknown, RegExp][] = [
    [(c) => c.slice(1), /all 32/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, id: 1 } : x)), /exactly once/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, id: 33 } : x)), /at most 32/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, name: "  " } : x)), /empty/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, name: "x".repeat(33) } : x)), /at most 32/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, name: "a\u0007" } : x)), /control/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, order: 1 } : x)), /unique/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, order: 0 } : x)), /at least 1/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, order: 1.5 } : x)), /integer/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, enabled: 1 } : x)), /enabled/],
    [(c) => c.map((x) => (x.id === 2 ? { ...x, colour: "red" } : x)), /unknown key/],
    [() => ({ channels: ok }), /list/],
  ];
  for (const [make, pattern] of cases) {
    const r = checkChannels(make(defaultChannels()));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, pattern);
  }
});

Deno.test("a disabled channel may share its order; names are trimmed; output sorted by id", () => {
  const c = defaultChannels().reverse();
  c[0] = { ...c[0], enabled: false, order: 1, name: "  Vox  " }; // id 32
  const r = checkChannels(c);
  assert.ok(r.ok);
  assert.equal(r.value[0].id, 1);
  assert.equal(r.value[31].name, "Vox");
});

Deno.test("renames alone are told apart from mapping changes", () => {
  const a = defaultChannels();
  const renamed = a.map((c) => (c.id === 3 ? { ...c, name: "Bass" } : c));
  assert.equal(onlyNamesChanged(a, renamed), true);
  const disabled = a.map((c) => (c.id === 3 ? { ...c, enabled: false } : c));
  assert.equal(onlyNamesChanged(a, disabled), false);
  const swapped = a.map((
    c,
  ) => (c.id === 1 ? { ...c, order: 2 } : c.id === 2 ? { ...c, order: 1 } : c));
  assert.equal(onlyNamesChanged(a, swapped), false);
});

Deno.test("the HTTPS setting: a boolean and a port 1024–65535 that is not the HTTP port", () => {
  const off = { enabled: false, port: 8443 };
  const bad: [unknown, RegExp][] = [
    [{ enabled: "yes" }, /enabled must be true or false/],
    [{ port: 443 }, /port must be at least 1024/],
    [{ port: 65536 }, /port must be at most 65535/],
    [{ port: 8443.5 }, /integer/],
    [{ port: "8443" }, /port must be a number/],
    [{ enabled: true, port: 8080 }, /plain HTTP port/],
    [{ enabled: true, cert: "x" }, /unknown key/],
    [[], /JSON object/],
  ];
  for (const [body, pattern] of bad) {
    const r = checkHttps(off, body, 8080);
    assert.equal(r.ok, false, `expected ${JSON.stringify(body)} to be refused`);
    if (!r.ok) assert.match(r.message, pattern);
  }
  assert.deepEqual(checkHttps(off, { enabled: true }, 8080), {
    ok: true,
    value: { enabled: true, port: 8443 },
  });
  assert.deepEqual(checkHttps(off, { port: 9443 }, 8080), {
    ok: true,
    value: { enabled: false, port: 9443 },
  });
  // The same rules through PATCH /api/admin/config.
  const r = checkConfigPatch(current, { https: { enabled: true, port: 8080 } }, 8080);
  assert.equal(r.ok, false);
  const ok = checkConfigPatch(current, { https: { enabled: true } }, 8080);
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.deepEqual(ok.value.patch, { https: { enabled: true } });
    assert.deepEqual(ok.value.changedKeys, ["https.enabled"]);
  }
  rejects({ https: { port: 80 } }, /https\.port: port must be at least 1024/);
});

Deno.test("aes67 section: every §13 key validated, output and input, nothing else", () => {
  rejects(
    { aes67: { output: { ptime_us: 500 } } },
    /ptime_us must be one of 125, 250, 333, 1000, 4000/,
  );
  rejects(
    { aes67: { output: { channels_per_stream: 0 } } },
    /channels_per_stream must be at least 1/,
  );
  rejects(
    { aes67: { output: { channels_per_stream: 9 } } },
    /channels_per_stream must be at most 8/,
  );
  rejects({ aes67: { output: { ttl: 0 } } }, /ttl must be at least 1/);
  rejects({ aes67: { output: { ttl: 256 } } }, /ttl must be at most 255/);
  rejects({ aes67: { output: { dscp: 64 } } }, /dscp must be at most 63/);
  rejects({ aes67: { output: { multicast_base: "10.0.0.1" } } }, /multicast_base/);
  rejects({ aes67: { output: { multicast_base: "239.255.255.250" } } }, /multicast_base/);
  rejects({ aes67: { output: { multicast_base: "239.69.83" } } }, /multicast_base/);
  rejects({ aes67: { output: { interface: "eth0; reboot" } } }, /interface must be/);
  rejects({ aes67: { output: { name: "" } } }, /name must not be empty/);
  rejects({ aes67: { output: { name: "a\r\nb" } } }, /control characters/);
  rejects({ aes67: { output: { enabled: "yes" } } }, /enabled must be true or false/);
  rejects({ aes67: { output: { port: 5004 } } }, /unknown key in aes67\.output/);
  rejects({ aes67: { input: { session: "x\n" } } }, /control characters/);
  rejects({ aes67: { input: { enabled: 1 } } }, /enabled must be true or false/);
  rejects({ aes67: { both: {} } }, /unknown key in aes67/);
  rejects({ aes67: [] }, /aes67 must be a JSON object/);
  // 8 channels of 4 ms are 4608 bytes: both given → refused; ptime alone lowers the channels.
  rejects(
    { aes67: { output: { ptime_us: 4000, channels_per_stream: 8 } } },
    /use at most 2 channels per stream/,
  );
  const lowered = checkConfigPatch(current, { aes67: { output: { ptime_us: 4000 } } });
  assert.ok(lowered.ok);
  if (lowered.ok) {
    assert.deepEqual(lowered.value.patch, {
      aes67: { output: { ptime_us: 4000, channels_per_stream: 2 } },
    });
  }
  const ok = checkConfigPatch(current, {
    aes67: {
      output: { enabled: true, interface: "eth1", ptime_us: 125, multicast_base: "239.1.2.3" },
      input: { enabled: true, session: "stage-left" },
    },
  });
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.deepEqual(ok.value.changedKeys, [
      "aes67.output.enabled",
      "aes67.output.interface",
      "aes67.output.multicast_base",
      "aes67.output.ptime_us",
      "aes67.input.enabled",
      "aes67.input.session",
    ]);
  }
});
