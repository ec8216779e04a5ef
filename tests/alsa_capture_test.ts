/**
 * AlsaSource through the real libasound, fed by the M32 emulator over a FIFO
 * (`file` PCM, see tests/alsa/m32emu.conf.template).
 */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { AlsaSource, type LogLevel } from "../src/audio/alsa_source.ts";
import type { Period } from "../src/audio/source.ts";
import type { SampleFormatName } from "../src/audio/sample_format.ts";
import { expectedSample, M32Emulator, writeEmulatorAlsaConfig } from "./m32_emulator.ts";
import { CaptureController } from "../src/audio/capture.ts";
import { getLogger } from "../src/util/log.ts";

const RATE = 48000;
const PERIOD = 256;
const BUFFER_PERIODS = 4;

interface Rig {
  emu: M32Emulator;
  source: AlsaSource;
  logs: { level: LogLevel; msg: string }[];
  fifo: string;
  cleanup: () => Promise<void>;
}

async function rig(channels: number, format: SampleFormatName, pcmName: string): Promise<Rig> {
  const dir = await Deno.makeTempDir({ prefix: "m32emu_" });
  const fifo = `${dir}/m32.fifo`;
  const conf = await writeEmulatorAlsaConfig(dir, { pcmName, fifoPath: fifo, channels });
  Deno.env.set("ALSA_CONFIG_PATH", conf);
  const emu = new M32Emulator({
    fifoPath: fifo,
    channels,
    format,
    sampleRate: RATE,
    framesPerChunk: PERIOD,
    bufferPeriods: BUFFER_PERIODS,
  });
  const logs: Rig["logs"] = [];
  const source = new AlsaSource({
    device: pcmName,
    sampleRate: RATE,
    framesPerPeriod: PERIOD,
    bufferPeriods: BUFFER_PERIODS,
    formats: [format],
    logger: (level, msg) => logs.push({ level, msg }),
  });
  return {
    emu,
    source,
    logs,
    fifo,
    cleanup: async () => {
      await source.stop();
      emu.stop();
      Deno.env.delete("ALSA_CONFIG_PATH");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Checks every sample of a period against the emulator pattern; returns its pattern frame. */
function checkPeriod(p: Period, format: SampleFormatName): number {
  const ch1 = p.data[0];
  const f0 = format === "S16_LE" ? (ch1 >> 16) & 0x1ff : (ch1 >> 8) & 0xffff;
  for (let i = 0; i < p.frames; i++) {
    for (let c = 1; c <= p.channels; c++) {
      const got = p.data[i * p.channels + c - 1];
      const want = expectedSample(format, c, f0 + i);
      if (got !== want) {
        throw new Error(`frame ${p.frameIndex + i} channel ${c}: got ${got}, want ${want}`);
      }
    }
  }
  return f0;
}

interface Collected {
  periods: number;
  channels: number[];
  frameIndexes: number[];
  faults: Error[];
}

/** Starts source and emulator together and checks `count` periods exactly. */
async function capture(r: Rig, format: SampleFormatName, count: number): Promise<Collected> {
  const got: Collected = { periods: 0, channels: [], frameIndexes: [], faults: [] };
  let done!: () => void;
  const finished = new Promise<void>((res) => (done = res));
  let failure: Error | null = null;
  const [fmt] = await Promise.all([
    r.source.start((p) => {
      if (got.periods >= count) return;
      try {
        checkPeriod(p, format);
      } catch (e) {
        failure ??= e as Error;
      }
      got.channels.push(p.channels);
      got.frameIndexes.push(p.frameIndex);
      if (++got.periods === count) done();
    }, { onFault: (e) => got.faults.push(e) }),
    r.emu.start(),
  ]);
  assertEquals(fmt.sampleRate, RATE);
  await finished;
  if (failure) throw failure;
  return got;
}

for (const format of ["S32_LE", "S24_3LE", "S16_LE"] as const) {
  Deno.test(`32-channel ${format} capture delivers the exact value of every channel`, async () => {
    const r = await rig(32, format, `m32emu_${format.toLowerCase()}`);
    try {
      const got = await capture(r, format, 40);
      assert(got.channels.every((c) => c === 32));
      assertEquals(r.source.format?.sampleFormat, format);
      assertEquals(r.source.format?.channels, 32);
      // consecutive frame indexes unless an overrun was counted
      if (r.source.xrunCount === 0) {
        got.frameIndexes.forEach((f, i) => assertEquals(f, i * PERIOD));
      }
      assertEquals(got.faults, []);
    } finally {
      await r.cleanup();
    }
  });
}

for (const channels of [16, 2]) {
  Deno.test(`a console in ${channels}-channel mode delivers ${channels} channels`, async () => {
    const r = await rig(channels, "S32_LE", `m32emu_${channels}ch`);
    try {
      const got = await capture(r, "S32_LE", 20);
      assert(got.channels.every((c) => c === channels), `channels ${got.channels}`);
      assertEquals(r.source.format?.channels, channels);
      match(r.source.format!.description, new RegExp(`${channels} ch S32_LE @ 48000 Hz`));
    } finally {
      await r.cleanup();
    }
  });
}

Deno.test("unplugging the console faults the source, and after replug start() works again", async () => {
  const r = await rig(32, "S32_LE", "m32emu_unplug");
  try {
    const got = await capture(r, "S32_LE", 10);
    const fault = new Promise<Error>((res) => {
      const t = setInterval(() => {
        if (got.faults.length > 0) {
          clearInterval(t);
          res(got.faults[0]);
        }
      }, 5);
    });
    r.emu.stop();
    const err = await fault;
    match(err.message, /m32emu_unplug.*(input has ended|unplugged)/);
    assertEquals(got.faults.length, 1);
    // replug
    const again = await capture(r, "S32_LE", 10);
    assertEquals(again.periods, 10);
    assertEquals(again.faults, []);
  } finally {
    await r.cleanup();
  }
});

Deno.test("a stalled console produces a counted, logged-once overrun and capture continues", async () => {
  const r = await rig(32, "S32_LE", "m32emu_stall");
  try {
    await capture(r, "S32_LE", 10);
    let after = 0;
    const later = new Promise<void>((res) => {
      // keep counting periods delivered after the stall
      const t = setInterval(() => {
        if (r.source.xrunCount > 0 && r.emu.chunksWritten > after + 20) {
          clearInterval(t);
          res();
        }
      }, 10);
    });
    after = r.emu.chunksWritten;
    r.emu.stall(200);
    await later;
    assert(r.source.xrunCount >= 1);
    const warns = r.logs.filter((l) => l.level === "warn" && /overrun/.test(l.msg));
    assertEquals(warns.length, 1, JSON.stringify(r.logs));
  } finally {
    await r.cleanup();
  }
});

Deno.test("stop() closes the device so the FIFO has no reader left", async () => {
  const r = await rig(2, "S32_LE", "m32emu_stop");
  try {
    await capture(r, "S32_LE", 5);
    await r.source.stop();
    await r.source.stop(); // idempotent
    const open: string[] = [];
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      try {
        const target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
        if (target.includes("m32.fifo")) open.push(target);
      } catch { /* fd closed meanwhile */ }
    }
    // only the emulator's write end remains
    assertEquals(open.length, 1, open.join(", "));
  } finally {
    await r.cleanup();
  }
});

Deno.test("opening a device that does not exist rejects start() with the ALSA reason", async () => {
  const source = new AlsaSource({ device: "m32_no_such_pcm" });
  let err: Error | null = null;
  try {
    await source.start(() => {}, { onFault: () => {} });
  } catch (e) {
    err = e as Error;
  }
  assert(err);
  match(err.message, /m32_no_such_pcm/);
  await source.stop();
});

Deno.test("through the capture controller a throwing sink on ALSA is counted in the status and capture continues", async () => {
  const r = await rig(32, "S32_LE", "m32emu_sinkthrow");
  try {
    let calls = 0;
    let done!: () => void;
    const reached = new Promise<void>((res) => (done = res));
    const c = new CaptureController({
      candidates: () => [{ kind: "alsa", create: () => r.source }],
      sink: () => {
        if (++calls === 20) done();
        if (calls % 2 === 1) throw new Error(`engine failed on period ${calls}`);
      },
      log: getLogger("test"),
    });
    await Promise.all([c.start(), r.emu.start()]);
    await reached;
    const st = c.status;
    const seen = calls;
    await c.stop();
    assertEquals(st.state, "running");
    assertEquals(st.sinkErrors, Math.ceil(seen / 2));
    assertEquals(st.faults, 0);
  } finally {
    await r.cleanup();
  }
});
