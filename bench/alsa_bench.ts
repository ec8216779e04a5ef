/**
 * ALSA capture benchmark through the M32 emulator (a child process writing a
 * FIFO read by libasound's `file` PCM). For 32-channel S32_LE at 48 kHz and
 * 64/128/256-frame periods it reports:
 * - CPU ms per second of audio (this process: capture + main thread),
 * - period delivery lateness p50/p99 (sink call time − (captureTimeMs + period)),
 * - main-thread event-loop stall: lateness of a 1 ms setInterval (p99/max).
 * Modes: "worker" (AlsaSource: Worker + SharedArrayBuffer ring, the shipped
 * design), "ffi-nonblocking" (snd_pcm_readi as a nonblocking FFI call from the
 * main thread), "main-blocking" (plain synchronous readi on the main thread,
 * the thing to avoid), and "pipeline": the real server path
 *
 *   AlsaSource (device period 64/128/256) → Reblocker (5 ms = 240 frames)
 *   → StreamingEngine → sendmmsg sender → 127.0.0.1
 *
 * with 1 and 20 clients of 16 channels L24 (channels 1..16, 1400-byte
 * datagrams, DSCP 46). The destinations are ports bound and drained by a
 * separate process (bench/udp_counter.ts), so receiving is not charged here.
 * Pipeline rows report engine.captureToWire p50/p99/max (capture time of a
 * packet time's first frame → its last datagram handed to the kernel; includes
 * the 5 ms packet time) and this process's CPU per second of audio, measured
 * after a 1 s warm-up and without the 1 ms loop probe (its loop* columns are
 * null). The emulator writes chunks of exactly the device period.
 *
 *   deno run -A bench/alsa_bench.ts [seconds-per-case]
 */

import process from "node:process";
import { AlsaSource } from "../src/audio/alsa_source.ts";
import {
  cellPointer,
  cString,
  libasound,
  pointerCell,
  SND_PCM_ACCESS_RW_INTERLEAVED,
  SND_PCM_FORMAT_S32_LE,
  SND_PCM_STREAM_CAPTURE,
} from "../ffi/libasound.ts";
import { writeEmulatorAlsaConfig } from "../tests/m32_emulator.ts";
import { Reblocker } from "../src/audio/reblocker.ts";
import { StreamingEngine } from "../src/session/engine.ts";
import { createSender } from "../src/net/create_sender.ts";
import { SeededRandom, systemClock } from "../src/util/clock.ts";
import type { Period } from "../src/audio/source.ts";
import { UdpCounter } from "./udp_count_client.ts";

const RATE = 48000;
const CHANNELS = 32;
const BUFFER_PERIODS = 4;
const TICK_MS = 1;
export const PERIOD_SIZES = [64, 128, 256] as const;
export const PIPELINE_CLIENTS = [1, 20] as const;
export type BenchMode = "worker" | "ffi-nonblocking" | "main-blocking" | "pipeline";
const PTIME_MS = 5;
const CLIENT_CHANNELS = Array.from({ length: 16 }, (_, i) => i + 1);
const MAX_DATAGRAM_BYTES = 1400;
const DSCP_EF = 46;
const EXT_INTERVAL_MS = 5000;
const LOOPBACK = "127.0.0.1";
const PIPELINE_WARMUP_S = 1;

export interface AlsaBenchResult {
  mode: BenchMode;
  periodFrames: number;
  /** Pipeline only: clients of 16 channels L24 (null for the capture-only modes). */
  clients: number | null;
  periods: number;
  audioSeconds: number;
  cpuMsPerAudioSecond: number;
  deliveryLatenessP50Ms: number;
  deliveryLatenessP99Ms: number;
  /** Pipeline only: engine.captureToWire percentiles, ms (includes the 5 ms packet time). */
  c2wP50Ms: number | null;
  c2wP99Ms: number | null;
  c2wMaxMs: number | null;
  /** Pipeline only: datagrams handed to the kernel per second, and 1 − received ÷ sent, %. */
  sentPerSecond: number | null;
  lossPercent: number | null;
  loopStallP99Ms: number | null;
  loopStallMaxMs: number | null;
  /** 1 ms timer callbacks that ran (0: the event loop never ran a timer; null: no probe). */
  timerTicks: number | null;
  xruns: number;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Lateness of a 1 ms interval timer: how long the event loop was blocked. */
function loopProbe() {
  const lateness: number[] = [];
  let last = performance.now();
  const t = setInterval(() => {
    const now = performance.now();
    lateness.push(Math.max(0, now - last - TICK_MS));
    last = now;
  }, TICK_MS);
  return { lateness, stop: () => clearInterval(t) };
}

async function runCase(
  mode: BenchMode,
  periodFrames: number,
  seconds: number,
): Promise<AlsaBenchResult> {
  const emu = await startEmulator(periodFrames, seconds + 3);
  const pcmName = emu.pcmName;
  const periodMs = (periodFrames * 1000) / RATE;
  const delivery: number[] = [];
  let periods = 0;
  let xruns = 0;
  const probeBox: { p: ReturnType<typeof loopProbe> | null } = { p: null };
  let cpu0 = process.cpuUsage();
  let t0 = 0;
  const begin = () => {
    probeBox.p = loopProbe();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
  };
  try {
    if (mode === "worker") {
      const source = new AlsaSource({
        device: pcmName,
        framesPerPeriod: periodFrames,
        bufferPeriods: BUFFER_PERIODS,
      });
      await source.start((p) => {
        if (periods++ === 0) begin();
        else {delivery.push(
            performance.timeOrigin + performance.now() - (p.captureTimeMs + periodMs),
          );}
      }, { onFault: (e) => console.error("fault:", e.message) });
      await new Promise((r) => setTimeout(r, seconds * 1000));
      xruns = source.xrunCount;
      await source.stop();
    } else {
      ({ periods, xruns } = await rawLoop(mode, pcmName, periodFrames, seconds, begin, delivery));
    }
  } finally {
    probeBox.p?.stop();
    await emu.stop();
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  const audioSeconds = ((periods - 1) * periodFrames) / RATE;
  const stall = probeBox.p?.lateness ?? [];
  if (stall.length === 0) stall.push(wallS * 1000); // blocked the whole run
  return {
    mode,
    periodFrames,
    clients: null,
    periods,
    audioSeconds: round(audioSeconds),
    cpuMsPerAudioSecond: round((cpu.user + cpu.system) / 1000 / Math.max(wallS, 1e-9)),
    deliveryLatenessP50Ms: round(pct(delivery, 50)),
    deliveryLatenessP99Ms: round(pct(delivery, 99)),
    c2wP50Ms: null,
    c2wP99Ms: null,
    c2wMaxMs: null,
    sentPerSecond: null,
    lossPercent: null,
    loopStallP99Ms: round(pct(stall, 99)),
    loopStallMaxMs: round(stall.length ? Math.max(...stall) : wallS * 1000),
    timerTicks: stall.length,
    xruns,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * The M32 emulator as a child process writing chunks of exactly `periodFrames`
 * (its framesPerChunk = the device period; the file plugin hides short reads)
 * into a FIFO, and ALSA_CONFIG_PATH pointing at a `file` PCM reading it.
 */
async function startEmulator(periodFrames: number, seconds: number) {
  const dir = await Deno.makeTempDir({ prefix: "alsa_bench_" });
  const fifo = `${dir}/m32.fifo`;
  const pcmName = "m32bench";
  Deno.env.set(
    "ALSA_CONFIG_PATH",
    await writeEmulatorAlsaConfig(dir, { pcmName, fifoPath: fifo, channels: CHANNELS }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../tests/m32_emulator.ts", import.meta.url).pathname,
      "--fifo",
      fifo,
      "--channels",
      String(CHANNELS),
      "--period", // framesPerChunk
      String(periodFrames),
      "--buffer-periods",
      String(BUFFER_PERIODS),
      "--seconds",
      String(seconds),
    ],
    stderr: "null",
    stdout: "null",
  }).spawn();
  return {
    pcmName,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      Deno.env.delete("ALSA_CONFIG_PATH");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The real capture-to-wire path: AlsaSource → Reblocker(5 ms) → StreamingEngine
 * → sendmmsg → `clients` loopback ports drained by a separate process.
 */
async function runPipelineCase(
  periodFrames: number,
  clients: number,
  seconds: number,
): Promise<AlsaBenchResult> {
  const emu = await startEmulator(periodFrames, PIPELINE_WARMUP_S + seconds + 3);
  const counter = await UdpCounter.start(clients);
  const udp = await createSender("sendmmsg", {
    hostname: LOOPBACK,
    port: 0,
    maxDatagramBytes: MAX_DATAGRAM_BYTES,
    dscp: DSCP_EF,
  }, (reason) => {
    throw new Error(`benchmark wanted sendmmsg: ${reason}`);
  });
  const engine = new StreamingEngine({
    sender: udp,
    clock: systemClock,
    extIntervalMs: EXT_INTERVAL_MS,
    maxDatagramBytes: MAX_DATAGRAM_BYTES,
  });
  const rnd = new SeededRandom(clients * 7919 + periodFrames);
  for (let i = 0; i < clients; i++) {
    engine.addClient({
      clientId: `bench-${i}`,
      hostname: LOOPBACK,
      port: counter.ports[i],
      spec: { channels: CLIENT_CHANNELS, sampleRate: RATE, compression: "none", encoding: "L24" },
      ssrc: rnd.u32(),
      sequence: rnd.u32() & 0xffff,
      timestampBase: rnd.u32(),
    });
  }
  const reblocker = Reblocker.packetTimes(() => PTIME_MS, engine.onPeriod);
  const source = new AlsaSource({
    device: emu.pcmName,
    framesPerPeriod: periodFrames,
    bufferPeriods: BUFFER_PERIODS,
  });
  const periodMs = (periodFrames * 1000) / RATE;
  const delivery: number[] = [];
  let recording = false;
  let periods = 0;
  let frames = 0;
  const sink = (p: Period): void => {
    if (recording) {
      delivery.push(systemClock.now() - (p.captureTimeMs + periodMs));
      periods++;
      frames += p.frames;
    }
    reblocker.push(p);
  };
  try {
    await source.start(sink, { onFault: (e) => console.error("fault:", e.message) });
    await sleep(PIPELINE_WARMUP_S * 1000);

    const r0 = await counter.snapshot();
    engine.captureToWire.reset();
    const xruns0 = source.xrunCount;
    const sent0 = udp.stats.packets;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    recording = true;

    await sleep(seconds * 1000);

    recording = false;
    const cpu = process.cpuUsage(cpu0);
    const wallS = (performance.now() - t0) / 1000;
    const sent = udp.stats.packets - sent0;
    const c2w = engine.captureToWire;
    const p50 = c2w.percentile(50), p99 = c2w.percentile(99), max = c2w.percentile(100);
    const xruns = source.xrunCount - xruns0;
    await source.stop();
    await sleep(50); // let in-flight datagrams land before the last count
    const received = (await counter.snapshot()).total - r0.total;
    const audioSeconds = frames / RATE;
    return {
      mode: "pipeline",
      periodFrames,
      clients,
      periods,
      audioSeconds: round(audioSeconds),
      cpuMsPerAudioSecond: round((cpu.user + cpu.system) / 1000 / Math.max(audioSeconds, 1e-9)),
      deliveryLatenessP50Ms: round(pct(delivery, 50)),
      deliveryLatenessP99Ms: round(pct(delivery, 99)),
      c2wP50Ms: round(p50),
      c2wP99Ms: round(p99),
      c2wMaxMs: round(max),
      sentPerSecond: Math.round(sent / wallS),
      lossPercent: sent > 0 ? round(Math.max(0, (1 - received / sent) * 100)) : NaN,
      loopStallP99Ms: null,
      loopStallMaxMs: null,
      timerTicks: null,
      xruns,
    };
  } finally {
    await source.stop();
    udp.close();
    await counter.close();
    await emu.stop();
  }
}

/** Comparison loops on the main thread (no timeline smoothing: lateness vs. read start). */
async function rawLoop(
  mode: BenchMode,
  device: string,
  periodFrames: number,
  seconds: number,
  begin: () => void,
  delivery: number[],
): Promise<{ periods: number; xruns: number }> {
  const a = libasound();
  const nb = Deno.dlopen("libasound.so.2", {
    snd_pcm_open: {
      parameters: ["buffer", "buffer", "i32", "i32"],
      result: "i32",
      nonblocking: true,
    },
    snd_pcm_readi: {
      parameters: ["pointer", "buffer", "usize"],
      result: "isize",
      nonblocking: true,
    },
  });
  const cell = pointerCell();
  const rc = await nb.symbols.snd_pcm_open(cell, cString(device), SND_PCM_STREAM_CAPTURE, 0);
  if (rc < 0) throw new Error(`open ${device}: ${rc}`);
  const pcm = cellPointer(cell);
  const hwCell = pointerCell();
  a.snd_pcm_hw_params_malloc(hwCell);
  const hw = cellPointer(hwCell);
  const u32 = new Uint32Array([RATE]);
  const dir = new Int32Array(1);
  const frames = new BigUint64Array([BigInt(periodFrames)]);
  a.snd_pcm_hw_params_any(pcm, hw);
  a.snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED);
  a.snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S32_LE);
  a.snd_pcm_hw_params_set_channels(pcm, hw, CHANNELS);
  a.snd_pcm_hw_params_set_rate_near(pcm, hw, u32, dir);
  a.snd_pcm_hw_params_set_period_size_near(pcm, hw, frames, dir);
  frames[0] = BigInt(periodFrames * BUFFER_PERIODS);
  a.snd_pcm_hw_params_set_buffer_size_near(pcm, hw, frames);
  const hrc = a.snd_pcm_hw_params(pcm, hw);
  a.snd_pcm_hw_params_free(hw);
  if (hrc < 0) throw new Error(`hw_params ${device}: ${hrc}`);
  const buf = new Uint8Array(periodFrames * CHANNELS * 4);
  const periodMs = (periodFrames * 1000) / RATE;
  let periods = 0;
  let first = 0;
  const end = performance.now() + seconds * 1000 + 200;
  while (performance.now() < end) {
    const n = mode === "ffi-nonblocking"
      ? Number(await nb.symbols.snd_pcm_readi(pcm, buf, BigInt(periodFrames)))
      : Number(a.snd_pcm_readi(pcm, buf, BigInt(periodFrames)));
    if (n < 0) {
      a.snd_pcm_recover(pcm, n, 1);
      continue;
    }
    const done = performance.now();
    if (periods++ === 0) {
      begin();
      first = done;
    } else delivery.push(done - (first + (periods - 1) * periodMs));
    if (mode === "main-blocking") await Promise.resolve(); // let microtasks, not timers, run
  }
  a.snd_pcm_close(pcm);
  nb.close();
  // anchor on the earliest read (the first one may have drained a FIFO backlog)
  const min = Math.min(...delivery);
  for (let i = 0; i < delivery.length; i++) delivery[i] -= min;
  return { periods, xruns: 0 };
}

/**
 * Runs every mode at 64/128/256-frame periods; `seconds` of capture per case
 * ("pipeline": per client count in `pipelineClients`, after a 1 s warm-up).
 */
export async function benchAlsa(
  seconds = 3,
  modes: BenchMode[] = ["worker", "ffi-nonblocking", "main-blocking", "pipeline"],
  pipelineClients: readonly number[] = PIPELINE_CLIENTS,
) {
  const results: AlsaBenchResult[] = [];
  for (const mode of modes) {
    for (const p of PERIOD_SIZES) {
      if (mode !== "pipeline") results.push(await runCase(mode, p, seconds));
      else for (const n of pipelineClients) results.push(await runPipelineCase(p, n, seconds));
    }
  }
  return results;
}

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? 3);
  const results = await benchAlsa(seconds);
  console.table(results);
}
