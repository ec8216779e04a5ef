/**
 * Deno adapter: the stereo mix as a WAV file. The header is written first
 * with zero sizes and rewritten with the real ones on `close()` (also called
 * on Ctrl-C by the CLI), so an interrupted run still leaves a valid file up to
 * the last `close`.
 */

import type { AudioOutput } from "./audio_output.ts";
import { floatToPcm, WAV_HEADER_BYTES, type WavBits, writeWavHeader } from "./wav.ts";

const STEREO = 2;

export class WavFileOutput implements AudioOutput {
  dataBytes = 0;
  private readonly file: Deno.FsFile;
  private buf = new Uint8Array(0);
  private closed = false;

  constructor(readonly path: string, readonly sampleRate: number, readonly bits: WavBits = 16) {
    this.file = Deno.openSync(path, { write: true, create: true, truncate: true });
    const header = new Uint8Array(WAV_HEADER_BYTES);
    writeWavHeader(header, sampleRate, STEREO, bits, 0);
    this.writeAll(header);
  }

  write(stereo: Float32Array, frames: number): void {
    if (this.closed) return;
    const need = frames * STEREO * (this.bits / 8);
    if (this.buf.length < need) this.buf = new Uint8Array(need);
    const n = floatToPcm(stereo, frames * STEREO, this.bits, this.buf);
    this.writeAll(this.buf.subarray(0, n));
    this.dataBytes += n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const header = new Uint8Array(WAV_HEADER_BYTES);
    writeWavHeader(header, this.sampleRate, STEREO, this.bits, this.dataBytes);
    this.file.seekSync(0, Deno.SeekMode.Start);
    this.writeAll(header);
    this.file.close();
  }

  private writeAll(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += this.file.writeSync(b.subarray(off));
  }
}
