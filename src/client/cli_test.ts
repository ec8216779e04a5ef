import assert from "node:assert/strict";
import { parseClientArgs, runClientCli } from "./cli.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("client flags have the contract's defaults", () => {
  assert.deepEqual(parseClientArgs([], env({})), {
    server: "http://127.0.0.1:8080",
    udpPort: 5004,
    channels: undefined,
    compression: "none",
    sampleRate: undefined,
    durationS: undefined,
    json: false,
    forceDelayMs: 0,
    jitterEnv: {},
    outPath: undefined,
    bits: 16,
    playDevice: undefined,
    settingsPath: "./m32-client-settings.json",
    compressionGiven: false,
  });
});

Deno.test("client settings file defaults to ~/.config per server, and none disables it", () => {
  const c = parseClientArgs(["--server", "http://10.0.0.2:8080"], env({ HOME: "/home/u" }));
  assert.ok(c !== "help");
  assert.equal(c.settingsPath, "/home/u/.config/m32-client/10.0.0.2_8080.json");
  const d = parseClientArgs(["--settings", "none", "--out", "m.wav", "--bits", "24"], env({}));
  assert.ok(d !== "help");
  assert.equal(d.settingsPath, null);
  assert.equal(d.outPath, "m.wav");
  assert.equal(d.bits, 24);
  assert.throws(() => parseClientArgs(["--bits", "8"], env({})), /--bits must be 16 or 24/);
});

Deno.test("client flags and environment are read and the flag wins over UDP_PORT", () => {
  const c = parseClientArgs(
    ["--server", "http://10.0.0.2:8080", "--channels", "1,5,32", "--compression", "opus"]
      .concat(["--sample-rate", "44100", "--duration", "2.5", "--json"]),
    env({
      UDP_PORT: "5005",
      FORCE_DELAY_MS: "50",
      JITTER_INTERPOLATE_MS: "80",
      JITTER_DROP_MS: "150",
    }),
  );
  assert.ok(c !== "help");
  assert.deepEqual(
    [c.server, c.udpPort, c.channels, c.compression, c.sampleRate, c.durationS, c.json],
    ["http://10.0.0.2:8080", 5005, [1, 5, 32], "opus", 44100, 2.5, true],
  );
  assert.deepEqual([c.forceDelayMs, c.jitterEnv], [50, { interpolate: 80, drop: 150 }]);
  const f = parseClientArgs(["--udp-port", "6000"], env({ UDP_PORT: "5005" }));
  assert.ok(f !== "help" && f.udpPort === 6000);
});

Deno.test("client flags refuse bad values with a sentence naming the value", () => {
  const bad: [string[], Record<string, string>, RegExp][] = [
    [["--channels", "1,33"], {}, /--channels id must be 1–32, got 33/],
    [["--channels", "1,1"], {}, /lists a channel twice/],
    [["--compression", "mp3"], {}, /none or opus/],
    [["--sample-rate", "22050"], {}, /48000, 44100, 32000, 24000/],
    [["--duration", "0"], {}, /--duration must be > 0/],
    [["--server", "ftp://x"], {}, /http:\/\/ URL/],
    [["--bogus"], {}, /bogus/],
    [[], { UDP_PORT: "70000" }, /UDP_PORT must be 0–65535/],
    [[], { FORCE_DELAY_MS: "-5" }, /FORCE_DELAY_MS must be an integer/],
  ];
  for (const [args, vars, re] of bad) assert.throws(() => parseClientArgs(args, env(vars)), re);
  assert.equal(parseClientArgs(["--help"], env({})), "help");
});

Deno.test("a taken UDP port fails with the way out (--udp-port 0), before any connection", async () => {
  const taken = Deno.listenDatagram({ hostname: "0.0.0.0", port: 0, transport: "udp" });
  const port = (taken.addr as Deno.NetAddr).port;
  const lines: string[] = [];
  try {
    const code = await runClientCli(["--udp-port", String(port), "--settings", "none"], {
      stderr: (l) => lines.push(l),
      stdout: () => {},
    });
    assert.equal(code, 1);
    assert.match(lines.join("\n"), new RegExp(`cannot open UDP port ${port}: .*--udp-port 0`));
  } finally {
    taken.close();
  }
});
