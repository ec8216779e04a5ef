/**
 * A paced Midas M32 emulator for CI: writes interleaved capture audio in real
 * time into a FIFO that libasound reads through a `file` PCM
 * (tests/alsa/m32emu.conf.template). Sample content is a known per-channel
 * pattern (`expectedSample`) so tests check exact values per channel.
 *
 * Device behaviour it models:
 * - pacing: chunk k is written at t0 + (k + 1) · chunk duration (absolute
 *   schedule, late timers catch up, never early);
 * - device buffer: a chunk is dropped (overrun, data lost) when the reader
 *   has not taken the previous `bufferPeriods` chunks, like a real device;
 * - stall(ms): no data for ms, the frames of that time are lost;
 * - unplug: stop() closes the FIFO (reader sees EOF); replug: start() again.
 *
 * CLI: deno run -A tests/m32_emulator.ts --fifo PATH [--channels 32]
 *      [--format S32_LE] [--rate 48000] [--period 256] [--seconds N]
 */

import {
  BYTES_PER_SAMPLE,
  fromLeftJustifiedInt32,
  type SampleFormatName,
} from "../src/audio/sample_format.ts";

const O_WRONLY = 0o1;
const F_SETPIPE_SZ = 1031;
const FIONREAD = 0x541b;
/** Pipe capacity we ask for: holds the modelled device buffer with room to spare. */
const PIPE_BYTES = 1 << 20;
const PATTERN_FRAME_MASK_24 = 0xffff;
const PATTERN_FRAME_MASK_16 = 0x1ff;

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32", nonblocking: true },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
});

/**
 * The left-justified int32 the reader must see for `channel` (1-based) at
 * emulator frame `frame`. Odd channels positive, even negative (checks sign
 * extension); S32 also carries the channel in its low byte.
 */
export function expectedSample(format: SampleFormatName, channel: number, frame: number): number {
  const sign = channel % 2 === 0 ? -1 : 1;
  if (format === "S16_LE") return (sign * ((channel << 9) | (frame & PATTERN_FRAME_MASK_16))) << 16;
  const v24 = sign * ((channel << 16) | (frame & PATTERN_FRAME_MASK_24));
  return format === "S32_LE" ? (v24 << 8) | channel : v24 << 8;
}

export interface EmulatorOptions {
  fifoPath: string;
  channels: number;
  format: SampleFormatName;
  sampleRate: number;
  /** Frames per write; match the reader's period (the file plugin hides short reads). */
  framesPerChunk: number;
  /** Chunks the modelled device buffer holds before it overruns. */
  bufferPeriods: number;
}

export class M32Emulator {
  /** Next frame of the pattern (advances also while stalled or overrun). */
  frame = 0;
  chunksWritten = 0;
  overruns = 0;
  /** Chunks lost because no reader had the FIFO open. */
  unread = 0;
  private fd = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private t0 = 0;
  private chunk = 0;
  private stallUntil = 0;
  private readonly samples: Int32Array;
  private readonly bytes: Uint8Array<ArrayBuffer>;
  private readonly chunkMs: number;
  private readonly queued = new Int32Array(1);

  constructor(readonly o: EmulatorOptions) {
    this.samples = new Int32Array(o.framesPerChunk * o.channels);
    this.bytes = new Uint8Array(o.framesPerChunk * o.channels * BYTES_PER_SAMPLE[o.format]);
    this.chunkMs = (o.framesPerChunk * 1000) / o.sampleRate;
  }

  get running(): boolean {
    return this.fd >= 0;
  }

  /** Opens the FIFO for writing (resolves once a reader opened it) and starts pacing. */
  async start(): Promise<void> {
    if (this.fd >= 0) throw new Error("emulator already running");
    const path = new TextEncoder().encode(this.o.fifoPath + "\0");
    const fd = await libc.symbols.open(path, O_WRONLY);
    if (fd < 0) throw new Error(`cannot open FIFO ${this.o.fifoPath} for writing`);
    libc.symbols.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES);
    this.fd = fd;
    this.t0 = performance.now();
    this.chunk = 0;
    this.schedule();
  }

  /** Writes nothing for `ms`; those frames are lost (the device clock runs on). */
  stall(ms: number): void {
    this.stallUntil = performance.now() + ms;
  }

  /** Unplug: closes the FIFO; the reader sees EOF. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd >= 0) libc.symbols.close(this.fd);
    this.fd = -1;
  }

  private schedule(): void {
    const dueMs = this.t0 + (this.chunk + 1) * this.chunkMs;
    this.timer = setTimeout(() => this.tick(), Math.max(0, dueMs - performance.now()));
  }

  private tick(): void {
    if (this.fd < 0) return;
    const now = performance.now();
    const due = Math.floor((now - this.t0) / this.chunkMs);
    // A late timer must not burst more than the device buffer: older chunks are lost.
    const oldestKept = due - this.o.bufferPeriods;
    for (; this.chunk < due; this.chunk++) {
      if (now < this.stallUntil || this.chunk < oldestKept || this.deviceBufferFull()) {
        if (now >= this.stallUntil) this.overruns++;
        this.frame += this.o.framesPerChunk;
        continue;
      }
      this.writeChunk();
    }
    this.schedule();
  }

  private deviceBufferFull(): boolean {
    libc.symbols.ioctl(this.fd, BigInt(FIONREAD), this.queued);
    return this.queued[0] + this.bytes.length > this.o.bufferPeriods * this.bytes.length;
  }

  private writeChunk(): void {
    const { channels, format, framesPerChunk } = this.o;
    for (let f = 0, i = 0; f < framesPerChunk; f++) {
      for (let c = 1; c <= channels; c++) {
        this.samples[i++] = expectedSample(format, c, this.frame + f);
      }
    }
    fromLeftJustifiedInt32(format, this.samples, this.bytes, this.samples.length);
    const n = Number(libc.symbols.write(this.fd, this.bytes, BigInt(this.bytes.length)));
    this.frame += framesPerChunk;
    // n < 0: no reader right now (EPIPE); the console keeps running regardless.
    if (n === this.bytes.length) this.chunksWritten++;
    else this.unread++;
  }
}

/** mkfifo + an ALSA config (system alsa.conf + pcm.<name>) in `dir`; returns its path. */
export async function writeEmulatorAlsaConfig(
  dir: string,
  o: { pcmName: string; fifoPath: string; channels: number },
): Promise<string> {
  const mk = await new Deno.Command("mkfifo", { args: [o.fifoPath] }).output();
  if (!mk.success) throw new Error(`mkfifo ${o.fifoPath}: ${new TextDecoder().decode(mk.stderr)}`);
  const template = await Deno.readTextFile(new URL("./alsa/m32emu.conf.template", import.meta.url));
  const bindings = Array.from(
    { length: o.channels },
    (_, c) => `    bindings.${c} { slave a channel ${c} }`,
  ).join("\n");
  const text = template
    .replaceAll("@NAME@", o.pcmName)
    .replaceAll("@CHANNELS@", String(o.channels))
    .replaceAll("@BINDINGS@", bindings)
    .replaceAll("@FIFO@", o.fifoPath);
  const path = `${dir}/asound.conf`;
  await Deno.writeTextFile(path, text);
  return path;
}

if (import.meta.main) {
  const args = new Map<string, string>();
  for (let i = 0; i < Deno.args.length; i += 2) {
    args.set(Deno.args[i].replace(/^--/, ""), Deno.args[i + 1]);
  }
  const fifoPath = args.get("fifo");
  if (!fifoPath) {
    console.error(
      "usage: m32_emulator.ts --fifo PATH [--channels 32] [--format S32_LE] [--rate 48000] [--period 256] [--seconds N]",
    );
    Deno.exit(2);
  }
  const emu = new M32Emulator({
    fifoPath,
    channels: Number(args.get("channels") ?? 32),
    format: (args.get("format") ?? "S32_LE") as SampleFormatName,
    sampleRate: Number(args.get("rate") ?? 48000),
    framesPerChunk: Number(args.get("period") ?? 256),
    bufferPeriods: Number(args.get("buffer-periods") ?? 4),
  });
  await emu.start();
  const seconds = Number(args.get("seconds") ?? 0);
  const end = () => {
    emu.stop();
    console.error(`m32 emulator: ${emu.chunksWritten} chunks written, ${emu.overruns} overruns`);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", end);
  Deno.addSignalListener("SIGINT", end);
  if (seconds > 0) setTimeout(end, seconds * 1000);
}
