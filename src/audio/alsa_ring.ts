/**
 * The SharedArrayBuffer ring between the capture Worker (producer) and the
 * main thread (consumer). Single producer, single consumer, lock-free:
 *
 *   control Int32Array (CONTROL_WORDS):
 *     [WRITE]   periods published by the worker (Atomics.notify on change)
 *     [READ]    periods consumed by the main thread
 *     [STATE]   RUNNING / STOP_REQUESTED (main → worker) / CLOSED (worker)
 *     [XRUNS]   overruns the device reported (EPIPE/ESTRPIPE recovered)
 *     [DROPPED] periods dropped because the ring was full (consumer too slow)
 *   meta Float64Array, META_WORDS per slot:
 *     [doneMs]  worker's epoch ms (timeOrigin + now) when the read completed
 *     [frames]  frames in the slot
 *     [flags]   FLAG_XRUN_BEFORE: an overrun was recovered just before this slot
 *   data Int32Array, slotSamples per slot: left-justified int32, interleaved.
 *
 * A slot is written only while WRITE - READ < slots, so the consumer's slot
 * stays untouched until it advances READ.
 */

export const CONTROL_WORDS = 8;
export const WRITE = 0;
export const READ = 1;
export const STATE = 2;
export const XRUNS = 3;
export const DROPPED = 4;

export const STATE_RUNNING = 1;
export const STATE_STOP_REQUESTED = 2;
export const STATE_CLOSED = 3;

export const META_WORDS = 3;
export const META_DONE_MS = 0;
export const META_FRAMES = 1;
export const META_FLAGS = 2;
export const FLAG_XRUN_BEFORE = 1;

export interface Ring {
  sab: SharedArrayBuffer;
  slots: number;
  slotSamples: number;
  control: Int32Array<SharedArrayBuffer>;
  meta: Float64Array<SharedArrayBuffer>;
  /** One view per slot, created once. */
  slotData: Int32Array<SharedArrayBuffer>[];
}

export function ringByteLength(slots: number, slotSamples: number): number {
  return CONTROL_WORDS * 4 + slots * META_WORDS * 8 + slots * slotSamples * 4;
}

export function createRing(slots: number, slotSamples: number): Ring {
  return attachRing(new SharedArrayBuffer(ringByteLength(slots, slotSamples)), slots, slotSamples);
}

export function attachRing(sab: SharedArrayBuffer, slots: number, slotSamples: number): Ring {
  const need = ringByteLength(slots, slotSamples);
  if (sab.byteLength < need) {
    throw new RangeError(`ring of ${slots} slots needs ${need} bytes, got ${sab.byteLength}`);
  }
  const control = new Int32Array(sab, 0, CONTROL_WORDS);
  const metaOffset = CONTROL_WORDS * 4;
  const meta = new Float64Array(sab, metaOffset, slots * META_WORDS);
  const dataOffset = metaOffset + slots * META_WORDS * 8;
  const slotData = Array.from(
    { length: slots },
    (_, i) => new Int32Array(sab, dataOffset + i * slotSamples * 4, slotSamples),
  );
  return { sab, slots, slotSamples, control, meta, slotData };
}
