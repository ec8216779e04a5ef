/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Playout without AudioWorklet (a plain-http page is not a secure context):
 * the shared JitterBuffer holds the decoded stream, the shared StereoMixer
 * mixes each block, and the block is played by one of
 *
 *   "buffer"  AudioBufferSourceNodes scheduled back to back LEAD ahead of
 *             the audio clock, topped up by a 5 ms timer (the default)
 *   "script"  a ScriptProcessorNode of SCRIPT_FRAMES frames (only when the
 *             stream rate equals the context rate)
 *
 *   jitter buffer ─read─▶ mixer ─▶ block ─▶ [AudioBufferSource | ScriptProcessor]
 *                                    │        ─▶ analyser (test hook) ─▶ speakers
 *                                    └─▶ master meter + clip count (OutputMeter)
 *
 * Reads are paced by the audio clock, not the timer: the block that plays at
 * context time t is read with now = wall(t + block) − lead, so the jitter
 * buffer sees evenly spaced reads and its delay target is kept; the schedule
 * lead adds to it, and nothing else does (./block_schedule.ts: when blocks
 * are rendered, and how the lead follows the underruns). Playout latency is measured per block as
 *
 *   capture→playout = wall(play time of the newest packet's last frame)
 *                     + clock offset − capture time of that frame
 */
import { JitterBuffer } from "../../src/client/jitter_buffer.ts";
import { DEFAULT_MASTER, type MasterSettings, StereoMixer } from "../../src/client/mixer.ts";
import type { ChannelSettings } from "../../src/client/settings.ts";
import type { JitterThresholds } from "../../src/client/api.ts";
import { OutputMeter } from "../../src/client/output_meter.ts";
import { AudioWallClock, LATENCY_WINDOW, OutputAnalyser } from "./audio_output.ts";
import { PlayoutTrace } from "./playout_trace.ts";
import { BLOCK_MS, BlockSchedule } from "./block_schedule.ts";

export type PlayoutMode = "buffer" | "script";

const TICK_MS = 5;
export const SCRIPT_FRAMES = 512;
/** Meter decay per block (peak hold falls ~20 dB/s). */
const METER_DECAY = 0.98;

export class Playout {
  readonly ctx: AudioContext;
  readonly analyser: OutputAnalyser;
  readonly jb: JitterBuffer;
  /** Per-channel peak level 0…1 (pre-fader), decayed. */
  levels = new Float32Array(0);
  /** The mix as played (post-fader, post-limiter): decayed peak and clipped blocks. */
  readonly master = new OutputMeter();
  /** The buffer engine's schedule and lead; the script engine reports its own lead. */
  private readonly schedule = new BlockSchedule();
  private scriptLeadMs = 0;
  mode: PlayoutMode;
  /** Recent capture→playout latencies (ms). */
  readonly latencies: number[] = [];
  /** Latencies and concealment events with their times (the Wi-Fi bench drains it). */
  readonly trace = new PlayoutTrace();
  private readonly gapScratch: number[] = [];
  private mixer: StereoMixer | null = null;
  private ids: number[] = [];
  private rate = 48000;
  private readonly starts: number[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private script: ScriptProcessorNode | null = null;
  private block = new Float32Array(0);
  private stereo = new Float32Array(0);
  private readonly wall: AudioWallClock;

  constructor(
    thresholds: JitterThresholds,
    mode: PlayoutMode,
    /** Server clock minus client clock (ms), and the newest packet's capture end (server ms). */
    private readonly clock: () => { offsetMs: number; newestCaptureEndMs: number },
    private readonly wallNow: () => number,
  ) {
    this.mode = mode;
    // 48 kHz is what Opus decodes to: no resampling in the page (the browser adapts to the device).
    this.ctx = new AudioContext({ latencyHint: "interactive", sampleRate: 48000 });
    this.analyser = new OutputAnalyser(this.ctx);
    this.jb = new JitterBuffer({ thresholds });
    this.wall = new AudioWallClock(this.ctx, wallNow);
  }

  /** A new stream: its channel ids (payload order) and rate; mixing restarts. */
  setStream(ids: number[], rate: number): void {
    this.ids = ids;
    this.rate = rate;
    this.levels = new Float32Array(ids.length);
    this.mixer = new StereoMixer(rate);
    this.schedule.restart(Math.round((rate * BLOCK_MS) / 1000) / rate);
    this.startEngine();
  }

  configureMix(settingsOf: (id: number) => ChannelSettings | undefined, master: MasterSettings) {
    this.mixer?.configure(this.ids, settingsOf, master ?? DEFAULT_MASTER);
  }

  private startEngine(): void {
    this.stopEngine();
    const useScript = this.mode === "script" && this.rate === this.ctx.sampleRate;
    if (useScript) {
      const node = this.ctx.createScriptProcessor(SCRIPT_FRAMES, 0, 2);
      node.onaudioprocess = (e) => {
        this.wall.sync();
        const out = e.outputBuffer;
        const dur = out.length / this.rate;
        // The block plays from playbackTime; read it as due at that time minus the lead.
        this.scriptLeadMs = (e.playbackTime - this.ctx.currentTime) * 1000 + dur * 1000;
        const nowMs = Math.min(
          this.wall.at(e.playbackTime + dur) - this.scriptLeadMs,
          this.wallNow(),
        );
        this.render(out.length, nowMs, e.playbackTime);
        const l = out.getChannelData(0), r = out.getChannelData(1);
        for (let f = 0; f < out.length; f++) {
          l[f] = this.stereo[2 * f];
          r[f] = this.stereo[2 * f + 1];
        }
      };
      node.connect(this.analyser.node);
      this.script = node;
    } else {
      this.mode = "buffer";
      this.timer = setInterval(() => this.tick(), TICK_MS);
    }
  }

  private stopEngine(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.script) {
      this.script.onaudioprocess = null;
      this.script.disconnect();
      this.script = null;
    }
  }

  close(): void {
    this.stopEngine();
    void this.ctx.close();
  }

  /** Schedule underruns (the buffer engine's schedule ran dry). */
  get underruns(): number {
    return this.schedule.underruns;
  }

  /** How far ahead of the audio clock the mix is read and scheduled (ms). */
  get leadMs(): number {
    return this.mode === "script" ? this.scriptLeadMs : this.schedule.leadMs;
  }

  private tick(): void {
    if (!this.mixer || this.ctx.state !== "running") return;
    this.wall.sync();
    const frames = Math.round((this.rate * BLOCK_MS) / 1000);
    const sched = this.schedule;
    sched.plan(this.ctx.currentTime, this.starts);
    for (const start of this.starts) {
      // Read as due at its end minus the lead (capped: a mapping's noise never asks the future).
      const nowMs = Math.min(this.wall.at(sched.readAt(start)), this.wallNow());
      this.render(frames, nowMs, start);
      const buf = this.ctx.createBuffer(2, frames, this.rate);
      const l = buf.getChannelData(0), r = buf.getChannelData(1);
      for (let f = 0; f < frames; f++) {
        l[f] = this.stereo[2 * f];
        r[f] = this.stereo[2 * f + 1];
      }
      const src = this.ctx.createBufferSource();
      src.buffer = buf;
      src.connect(this.analyser.node);
      src.start(start);
    }
  }

  /** Reads one block from the jitter buffer, meters it, mixes it into `stereo`. */
  private render(frames: number, nowMs: number, startCtxTime: number): void {
    const n = this.ids.length;
    if (this.block.length < frames * n) this.block = new Float32Array(frames * n);
    if (this.stereo.length < frames * 2) this.stereo = new Float32Array(frames * 2);
    const mixer = this.mixer;
    if (!mixer || n === 0 || this.jb.channelCount !== n) {
      this.stereo.fill(0);
      this.jb.read(null, frames, nowMs);
      return;
    }
    this.jb.read(this.block, frames, nowMs);
    const lv = this.levels;
    for (let c = 0; c < n; c++) {
      let peak = 0;
      for (let f = 0; f < frames; f++) {
        const v = Math.abs(this.block[f * n + c]);
        if (v > peak) peak = v;
      }
      lv[c] = Math.max(peak, lv[c] * METER_DECAY);
    }
    mixer.process(this.block, frames, this.stereo);
    this.master.note(this.stereo, frames);
    this.noteLatency(frames, startCtxTime);
    if (this.jb.events.size > 0) {
      this.jb.events.drainInto(this.gapScratch);
      this.trace.addGaps(this.gapScratch);
      this.gapScratch.length = 0;
    }
  }

  /** The newest packet's last frame plays `bufferedMs` after this block's end. */
  private noteLatency(frames: number, startCtxTime: number): void {
    const { offsetMs, newestCaptureEndMs } = this.clock();
    if (Number.isNaN(newestCaptureEndMs) || this.jb.bufferedMs <= 0) return;
    const blockEndWall = this.wall.at(startCtxTime + frames / this.rate);
    const playWall = blockEndWall + this.jb.bufferedMs;
    const latency = playWall + offsetMs - newestCaptureEndMs;
    if (!(latency > 0 && latency < 10_000)) return;
    this.latencies.push(latency);
    if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
    this.trace.latency(blockEndWall, latency);
  }

  /** Analyser magnitudes (dBFS) of the mixed output at the given frequencies. */
  magnitudesAt(freqs: number[]): number[] {
    return this.analyser.magnitudesAt(freqs);
  }
}
