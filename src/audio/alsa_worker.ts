/// <reference lib="deno.worker" />
/**
 * The capture Worker: opens the ALSA PCM, negotiates the format, then loops on
 * blocking snd_pcm_wait/snd_pcm_readi (paced by the device, never by timers)
 * and publishes periods into the SharedArrayBuffer ring (./alsa_ring.ts).
 * Runs off the main thread so a blocking read never stalls the event loop.
 *
 * Messages: main → worker: one WorkerRequest. worker → main: WorkerMessage.
 * After the request the worker never returns to its event loop; the main
 * thread stops it through the ring's STATE word.
 */

import { nameThread } from "../system/thread_priority.ts";
import { isSpareWarmUp } from "../system/spare_workers.ts";
import {
  alsaError,
  cellPointer,
  cString,
  EAGAIN,
  EPIPE,
  ESTRPIPE,
  libasound,
  pointerCell,
  readCString,
  SND_PCM_ACCESS_RW_INTERLEAVED,
  SND_PCM_FORMAT_S16_LE,
  SND_PCM_FORMAT_S24_3LE,
  SND_PCM_FORMAT_S32_LE,
  SND_PCM_NONBLOCK,
  SND_PCM_STREAM_CAPTURE,
} from "../../ffi/libasound.ts";
import {
  attachRing,
  createRing,
  DROPPED,
  FLAG_XRUN_BEFORE,
  META_DONE_MS,
  META_FLAGS,
  META_FRAMES,
  META_WORDS,
  READ,
  STATE,
  STATE_RUNNING,
  WRITE,
  XRUNS,
} from "./alsa_ring.ts";
import {
  BYTES_PER_SAMPLE,
  firstAccepted,
  type SampleFormatName,
  toLeftJustifiedInt32,
} from "./sample_format.ts";

export interface WorkerRequest {
  device: string;
  sampleRate: number;
  framesPerPeriod: number;
  bufferPeriods: number;
  formats: readonly SampleFormatName[];
  channelModes: readonly number[];
  ringSlots: number;
  /** ms without any data before the device counts as stuck. */
  stuckMs: number;
}

export type WorkerMessage =
  | {
    type: "ready";
    sab: SharedArrayBuffer;
    slots: number;
    slotSamples: number;
    channels: number;
    sampleRate: number;
    format: SampleFormatName;
    periodFrames: number;
    bufferFrames: number;
    pcmName: string;
  }
  | { type: "open_failed"; message: string }
  | { type: "fault"; message: string }
  | { type: "closed" };

const FORMAT_CODES: Record<SampleFormatName, number> = {
  S32_LE: SND_PCM_FORMAT_S32_LE,
  S24_3LE: SND_PCM_FORMAT_S24_3LE,
  S16_LE: SND_PCM_FORMAT_S16_LE,
};
/** snd_pcm_wait slice, so a stop request is seen even when no data comes. */
const WAIT_SLICE_MS = 100;
/** snd_pcm_recover(…, silent = 1): we log ourselves, once per burst. */
const RECOVER_SILENT = 1;
const RATE_DIR_NEAREST = 0;

class OpenError extends Error {}

const post = (m: WorkerMessage) => self.postMessage(m);
const nowMs = () => performance.timeOrigin + performance.now();

function check(code: number, what: string, device: string): void {
  if (code < 0) throw new OpenError(`ALSA ${what} on "${device}" failed: ${alsaError(code)}`);
}

function capture(req: WorkerRequest): void {
  const a = libasound();
  const cell = pointerCell();
  check(
    a.snd_pcm_open(cell, cString(req.device), SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK),
    "open",
    req.device,
  );
  const pcm = cellPointer(cell);
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      a.snd_pcm_drop(pcm);
      a.snd_pcm_close(pcm);
    }
  };
  try {
    run(req, pcm);
  } finally {
    close();
  }
}

function run(req: WorkerRequest, pcm: Deno.PointerValue): void {
  const a = libasound();
  const dev = req.device;
  const hwCell = pointerCell();
  check(a.snd_pcm_hw_params_malloc(hwCell), "hw_params_malloc", dev);
  const hw = cellPointer(hwCell);
  const u32 = new Uint32Array(1);
  const dir = new Int32Array(1);
  const frames = new BigUint64Array(1);
  try {
    check(a.snd_pcm_hw_params_any(pcm, hw), "hw_params_any", dev);
    check(
      a.snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED),
      "set_access RW_INTERLEAVED",
      dev,
    );
    const format = firstAccepted(
      req.formats,
      (f) => a.snd_pcm_hw_params_test_format(pcm, hw, FORMAT_CODES[f]) === 0,
    );
    if (format === null) {
      throw new OpenError(
        `ALSA device "${dev}" offers none of the formats ${req.formats.join("/")}`,
      );
    }
    check(a.snd_pcm_hw_params_set_format(pcm, hw, FORMAT_CODES[format]), "set_format", dev);
    const channels = firstAccepted(
      req.channelModes,
      (c) => a.snd_pcm_hw_params_test_channels(pcm, hw, c) === 0,
    );
    if (channels === null) {
      throw new OpenError(
        `ALSA device "${dev}" offers none of the channel counts ${req.channelModes.join("/")}`,
      );
    }
    check(a.snd_pcm_hw_params_set_channels(pcm, hw, channels), "set_channels", dev);
    u32[0] = req.sampleRate;
    dir[0] = RATE_DIR_NEAREST;
    check(a.snd_pcm_hw_params_set_rate_near(pcm, hw, u32, dir), "set_rate_near", dev);
    const rate = u32[0];
    frames[0] = BigInt(req.framesPerPeriod);
    dir[0] = RATE_DIR_NEAREST;
    check(a.snd_pcm_hw_params_set_period_size_near(pcm, hw, frames, dir), "set_period_size", dev);
    frames[0] = BigInt(req.framesPerPeriod * req.bufferPeriods);
    check(a.snd_pcm_hw_params_set_buffer_size_near(pcm, hw, frames), "set_buffer_size", dev);
    check(a.snd_pcm_hw_params(pcm, hw), "hw_params", dev);
    check(a.snd_pcm_hw_params_get_period_size(hw, frames, dir), "get_period_size", dev);
    const periodFrames = Number(frames[0]);
    check(a.snd_pcm_hw_params_get_buffer_size(hw, frames), "get_buffer_size", dev);
    const bufferFrames = Number(frames[0]);
    setSwParams(pcm, periodFrames, dev);
    check(a.snd_pcm_prepare(pcm), "prepare", dev);

    const ring = createRing(req.ringSlots, periodFrames * channels);
    Atomics.store(ring.control, STATE, STATE_RUNNING);
    post({
      type: "ready",
      sab: ring.sab,
      slots: ring.slots,
      slotSamples: ring.slotSamples,
      channels,
      sampleRate: rate,
      format,
      periodFrames,
      bufferFrames,
      pcmName: readCString(a.snd_pcm_name(pcm)),
    });
    loop(req, pcm, ring.sab, { channels, format, periodFrames, slots: ring.slots });
  } finally {
    a.snd_pcm_hw_params_free(hw);
  }
}

function setSwParams(pcm: Deno.PointerValue, periodFrames: number, dev: string): void {
  const a = libasound();
  const cell = pointerCell();
  check(a.snd_pcm_sw_params_malloc(cell), "sw_params_malloc", dev);
  const sw = cellPointer(cell);
  try {
    check(a.snd_pcm_sw_params_current(pcm, sw), "sw_params_current", dev);
    check(a.snd_pcm_sw_params_set_avail_min(pcm, sw, BigInt(periodFrames)), "avail_min", dev);
    // capture starts on the first read
    check(a.snd_pcm_sw_params_set_start_threshold(pcm, sw, 1n), "start_threshold", dev);
    check(a.snd_pcm_sw_params(pcm, sw), "sw_params", dev);
  } finally {
    a.snd_pcm_sw_params_free(sw);
  }
}

interface Granted {
  channels: number;
  format: SampleFormatName;
  periodFrames: number;
  slots: number;
}

function loop(req: WorkerRequest, pcm: Deno.PointerValue, sab: SharedArrayBuffer, g: Granted) {
  const a = libasound();
  const ring = attachRing(sab, g.slots, g.periodFrames * g.channels);
  const ctl = ring.control;
  const frameBytes = g.channels * BYTES_PER_SAMPLE[g.format];
  const direct = g.format === "S32_LE";
  const raw = direct ? null : new Uint8Array(g.periodFrames * frameBytes);
  let filled = 0;
  let xrunPending = false;
  let waitedMs = 0;
  const onXrun = () => {
    xrunPending = true;
    Atomics.add(ctl, XRUNS, 1);
  };
  while (Atomics.load(ctl, STATE) === STATE_RUNNING) {
    const w = Atomics.load(ctl, WRITE);
    const full = w - Atomics.load(ctl, READ) >= ring.slots;
    const slot = w % ring.slots;
    const data = ring.slotData[slot];
    const target = direct
      ? new Uint8Array(
        sab,
        data.byteOffset + filled * frameBytes,
        (g.periodFrames - filled) * frameBytes,
      )
      : raw!.subarray(filled * frameBytes);
    const n = Number(a.snd_pcm_readi(pcm, target, BigInt(g.periodFrames - filled)));
    if (n === -EAGAIN) {
      const r = a.snd_pcm_wait(pcm, WAIT_SLICE_MS);
      if (r === 0) {
        waitedMs += WAIT_SLICE_MS;
        if (waitedMs >= req.stuckMs) {
          throw new Error(`ALSA device "${req.device}" delivered no audio for ${waitedMs} ms`);
        }
      } else if (r < 0) recoverOrThrow(pcm, r, req.device, onXrun);
      continue;
    }
    if (n < 0) {
      recoverOrThrow(pcm, n, req.device, onXrun);
      filled = 0;
      continue;
    }
    waitedMs = 0;
    filled += n;
    if (filled < g.periodFrames) continue;
    filled = 0;
    if (full) {
      Atomics.add(ctl, DROPPED, 1);
      continue;
    }
    if (!direct) toLeftJustifiedInt32(g.format, raw!, data, g.periodFrames * g.channels);
    const m = slot * META_WORDS;
    ring.meta[m + META_DONE_MS] = nowMs();
    ring.meta[m + META_FRAMES] = g.periodFrames;
    ring.meta[m + META_FLAGS] = xrunPending ? FLAG_XRUN_BEFORE : 0;
    xrunPending = false;
    Atomics.store(ctl, WRITE, w + 1);
    Atomics.notify(ctl, WRITE);
  }
}

/** EPIPE (overrun) and ESTRPIPE (suspend) are recovered and counted; anything else is fatal. */
function recoverOrThrow(pcm: Deno.PointerValue, code: number, device: string, onXrun: () => void) {
  const a = libasound();
  const r = a.snd_pcm_recover(pcm, code, RECOVER_SILENT);
  if (r < 0) {
    throw new Error(`ALSA capture from "${device}" failed: ${alsaError(code)}; device gone?`);
  }
  if (code === -EPIPE || code === -ESTRPIPE) {
    onXrun();
  }
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  if (isSpareWarmUp(req)) return; // a spare started ahead of need (src/system/spare_workers.ts)
  // Its name in ps -L / top -H; its scheduling is inherited from the thread that started it.
  nameThread("m32-alsa");
  try {
    capture(req);
  } catch (err) {
    const message = (err as Error).message;
    post(err instanceof OpenError ? { type: "open_failed", message } : { type: "fault", message });
  }
  post({ type: "closed" });
  self.close();
};
