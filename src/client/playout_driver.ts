/**
 * Pulls the jitter buffer on the client's own sample clock and sends the mix
 * out, runtime-neutral (timers only). Every `intervalMs` it renders the frames
 * due since the stream started — jitter buffer → StereoMixer → AudioOutput —
 * in blocks of at most MAX_BLOCK frames, each block asked for at the time its
 * last frame is due. Without an output it only advances the buffer (timing
 * and the concealed/dropped counters stay meaningful, no samples are touched).
 *
 * A stall longer than MAX_CATCH_UP_MS (a blocked event loop) is skipped, not
 * rendered in a burst.
 */

import type { Clock } from "../util/clock.ts";
import type { AudioOutput } from "./audio_output.ts";
import type { JitterBuffer } from "./jitter_buffer.ts";
import { DEFAULT_MASTER, type MasterSettings, type MixerChannel, StereoMixer } from "./mixer.ts";

export const DEFAULT_TICK_MS = 10;
export const MAX_BLOCK = 1024;
export const MAX_CATCH_UP_MS = 200;

export interface PlayoutDriverOptions {
  jitter: JitterBuffer;
  clock: Clock;
  /** Opens the output for the first stream's rate; null = nothing is played. */
  openOutput?: ((sampleRate: number) => AudioOutput) | null;
  settingsOf?: (id: number) => MixerChannel | undefined;
  master?: () => MasterSettings;
  intervalMs?: number;
  log?: (line: string) => void;
}

export class PlayoutDriver {
  output: AudioOutput | null = null;
  framesRendered = 0;
  stalls = 0;
  private mixer: StereoMixer | null = null;
  private ids: readonly number[] = [];
  private rate = 0;
  private t0 = 0;
  private rendered = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private multi = new Float32Array(0);
  private stereo = new Float32Array(MAX_BLOCK * 2);
  private rateWarned = false;

  constructor(private readonly opts: PlayoutDriverOptions) {}

  /** A stream (ack) starts: channels in payload order and the RTP clock rate. */
  setStream(ids: readonly number[], rate: number): void {
    this.ids = [...ids];
    this.rate = rate;
    this.t0 = this.opts.clock.now();
    this.rendered = 0;
    if (this.opts.openOutput && this.output === null) this.output = this.opts.openOutput(rate);
    if (this.output && this.output.sampleRate !== rate && !this.rateWarned) {
      this.rateWarned = true;
      this.opts.log?.(
        `[PLAY] stream rate ${rate} Hz differs from the output's ${this.output.sampleRate} Hz: ` +
          "the mix is written unresampled (pitch shifts)",
      );
    }
    this.remix();
    if (this.multi.length < MAX_BLOCK * ids.length) {
      this.multi = new Float32Array(MAX_BLOCK * Math.max(1, ids.length));
    }
  }

  /** The channel settings changed: rebuild the mixer strips. */
  remix(): void {
    if (this.output === null || this.rate === 0) return;
    this.mixer = new StereoMixer(this.rate);
    this.mixer.configure(
      this.ids,
      this.opts.settingsOf ?? (() => undefined),
      this.opts.master?.() ?? DEFAULT_MASTER,
    );
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(
      () => this.tick(this.opts.clock.now()),
      this.opts.intervalMs ?? DEFAULT_TICK_MS,
    );
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.output?.close();
  }

  tick(now: number): void {
    if (this.rate === 0) return;
    const jb = this.opts.jitter;
    let due = Math.floor(((now - this.t0) * this.rate) / 1000) - this.rendered;
    const maxFrames = Math.floor((MAX_CATCH_UP_MS * this.rate) / 1000);
    if (due > maxFrames) {
      this.stalls++;
      this.rendered += due - maxFrames;
      due = maxFrames;
    }
    const ch = jb.channelCount;
    while (due > 0) {
      const n = Math.min(due, MAX_BLOCK);
      const at = this.t0 + ((this.rendered + n) * 1000) / this.rate;
      const mixing = this.output !== null && this.mixer !== null && ch === this.mixer.channels;
      if (mixing) {
        jb.read(this.multi, n, at);
        this.mixer!.process(this.multi, n, this.stereo);
        this.output!.write(this.stereo, n);
      } else {
        jb.read(null, n, at);
      }
      this.rendered += n;
      this.framesRendered += n;
      due -= n;
    }
  }
}
