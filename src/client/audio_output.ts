/** Where the stereo mix goes (a WAV file, an ALSA device, a browser's AudioWorklet). */
export interface AudioOutput {
  /** Output sample rate (Hz); the mix is written at the stream's rate. */
  readonly sampleRate: number;
  /** Writes `frames` interleaved stereo frames (−1 … 1). Never throws for device hiccups. */
  write(stereo: Float32Array, frames: number): void;
  /** Flushes and closes (a WAV file gets its final header). */
  close(): void;
}
