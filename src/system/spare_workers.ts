/**
 * Workers started ahead of need. In Deno 2.9 the first message a worker
 * started from inside another worker (the audio plane's thread starting its
 * pacer or ALSA reader) gets takes ≈ 0.5 s to arrive, however long after the
 * start it is sent (measured: 503–535 ms, later messages 0.2–1 ms; from the
 * main thread 33 ms in all), and `new Worker` holds the starting thread
 * ≈ 27 ms. Paid at every source start, that was a second more silence for
 * every phone at every session start, restart and reopen, and a late period.
 *
 * So the audio plane keeps one spare of each kind, started while no audio
 * flows (at start-up, and after a source stops) and sent a warm-up message
 * (`{ spareWarmUp: true }`, which the worker ignores) that pays the first
 * message's delay then: a source that starts takes a spare that answers at
 * once. Anywhere spares are not kept (the main thread, tests), `spawnWorker`
 * just starts a new worker.
 */

type Factory = () => Worker;

/** What a spare is sent at its start; every worker kept spare ignores it. */
export const SPARE_WARM_UP = { spareWarmUp: true } as const;

/** Whether a worker's message is the warm-up (to be ignored). */
export function isSpareWarmUp(data: unknown): boolean {
  return typeof data === "object" && data !== null && "spareWarmUp" in data;
}

const kinds = new Map<string, Factory>();
const spares = new Map<string, Worker>();
let keep = false;

/** Declares a kind of worker that may be kept spare; `factory` is called only when one is started. */
export function registerWorkerKind(kind: string, factory: Factory): void {
  kinds.set(kind, factory);
}

/** A running worker of `kind`: the spare if there is one, else a new one. */
export function spawnWorker(kind: string): Worker {
  const spare = spares.get(kind);
  if (spare) {
    spares.delete(kind);
    return spare;
  }
  const factory = kinds.get(kind);
  if (!factory) throw new Error(`no worker kind "${kind}" is registered`);
  return factory();
}

/** From now on this thread keeps spares (the audio plane's thread calls it once it is set up). */
export function keepSpareWorkers(): void {
  keep = true;
}

/**
 * Starts a spare of every kind that has none. Call it only while no audio
 * flows on this thread: starting a worker holds the thread for ≈ 27 ms.
 */
export function replenishSpareWorkers(): void {
  if (!keep) return;
  for (const [kind, factory] of kinds) {
    if (spares.has(kind)) continue;
    const w = factory();
    w.postMessage(SPARE_WARM_UP);
    spares.set(kind, w);
  }
}

/** Ends every spare and keeps none from now on. */
export function closeSpareWorkers(): void {
  keep = false;
  for (const w of spares.values()) w.terminate();
  spares.clear();
}

/** Kinds with a spare ready now (for tests and the log). */
export function spareWorkerKinds(): string[] {
  return [...spares.keys()];
}
