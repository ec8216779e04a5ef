/**
 * Deno adapter: the stereo mix to an ALSA playback device (`--play DEVICE`),
 * float32 interleaved, non-blocking: when the device is full the block is
 * dropped (counted) rather than stalling the receive loop; an underrun is
 * recovered with snd_pcm_recover and counted. Repeated errors are logged once
 * with a count.
 */

import {
  alsaError,
  cellPointer,
  cString,
  EAGAIN,
  libasound,
  pointerCell,
  SND_PCM_ACCESS_RW_INTERLEAVED,
  SND_PCM_FORMAT_FLOAT_LE,
  SND_PCM_NONBLOCK,
  SND_PCM_STREAM_PLAYBACK,
} from "../../ffi/libasound.ts";
import type { AudioOutput } from "./audio_output.ts";

const STEREO = 2;
/** Device buffer asked of snd_pcm_set_params (µs). */
export const PLAYBACK_LATENCY_US = 60_000;

export class AlsaOutput implements AudioOutput {
  framesWritten = 0;
  framesDropped = 0;
  underruns = 0;
  errors = 0;
  private readonly pcm: Deno.PointerValue;
  private closed = false;

  constructor(
    readonly device: string,
    readonly sampleRate: number,
    private readonly log: (line: string) => void = () => {},
  ) {
    const a = libasound();
    const cell = pointerCell();
    let rc = a.snd_pcm_open(cell, cString(device), SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
    if (rc < 0) throw new Error(`cannot open ALSA playback device "${device}": ${alsaError(rc)}`);
    this.pcm = cellPointer(cell);
    rc = a.snd_pcm_set_params(
      this.pcm,
      SND_PCM_FORMAT_FLOAT_LE,
      SND_PCM_ACCESS_RW_INTERLEAVED,
      STEREO,
      sampleRate,
      1,
      PLAYBACK_LATENCY_US,
    );
    if (rc < 0) {
      a.snd_pcm_close(this.pcm);
      throw new Error(
        `ALSA device "${device}" refuses float stereo at ${sampleRate} Hz: ${alsaError(rc)}`,
      );
    }
  }

  write(stereo: Float32Array, frames: number): void {
    if (this.closed) return;
    const a = libasound();
    let off = 0;
    for (let tries = 0; off < frames && tries < 3; tries++) {
      const view = new Uint8Array(stereo.buffer, stereo.byteOffset + off * STEREO * 4);
      const n = Number(a.snd_pcm_writei(this.pcm, view, BigInt(frames - off)));
      if (n >= 0) {
        off += n;
        continue;
      }
      if (n === -EAGAIN) break; // device full: drop the rest (its clock is slower)
      const rc = a.snd_pcm_recover(this.pcm, n, 1);
      this.underruns++;
      if (rc < 0) {
        if (this.errors++ === 0 || this.errors % 100 === 0) {
          this.log(`[ALSA] playback error ${this.errors}x: ${alsaError(n)}`);
        }
        break;
      }
    }
    this.framesWritten += off;
    this.framesDropped += frames - off;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const a = libasound();
    a.snd_pcm_drop(this.pcm);
    a.snd_pcm_close(this.pcm);
  }
}
