/**
 * The audio plane's worker: runs ./plane_core.ts on a thread of its own, so
 * nothing on the main thread (HTTP, WebSockets, werift's SCTP and DTLS,
 * SQLite, TLS, a slow handler) can delay a period. Started by
 * ./worker_plane.ts; messages in ./protocol.ts. Its log lines are sent to the
 * main thread, which writes them like its own.
 */
/// <reference lib="deno.worker" />
import { embedWorker } from "../system/embedded_worker.ts";
import { keepSpareWorkers, replenishSpareWorkers } from "../system/spare_workers.ts";
import { systemClock } from "../util/clock.ts";
import { getLogger, logConfig, type LogFields } from "../util/log.ts";
import { AudioPlaneCore } from "./plane_core.ts";
import { nameThread, raiseThreadPriority } from "../system/thread_priority.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

const post = (msg: FromWorker, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

logConfig.write = () => {};
logConfig.listeners.add((r) => {
  const fields: LogFields = {};
  for (const [k, v] of Object.entries(r.fields)) fields[k] = v instanceof Error ? v.message : v;
  post({ type: "log", level: r.level, category: r.category, message: r.message, fields });
});

let core: AudioPlaneCore | null = null;
/**
 * Source operations run one at a time, in order (a stop never overtakes its
 * start); client changes apply at once, between periods, even while a device
 * is still opening.
 */
let queue: Promise<void> = Promise.resolve();
const QUEUED = new Set<ToWorker["type"]>(["start", "stop", "close"]);

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === "init") {
    for (const [name, code] of Object.entries(m.embedded)) embedWorker(name, code);
    const log = getLogger("audio-plane");
    nameThread("m32-audio");
    const prio = raiseThreadPriority();
    log.info("audio plane thread", {
      policy: prio.policy,
      priority: prio.priority ?? undefined,
      priority_error: prio.error,
    });
    // Pacer and ALSA reader started now, inheriting this thread's scheduling: a
    // source start takes one that already runs (src/system/spare_workers.ts).
    keepSpareWorkers();
    replenishSpareWorkers();
    const c = new AudioPlaneCore(m, post, systemClock, log);
    queue = c.open().then(
      (r) => {
        core = c;
        post({ type: "ready", ...r });
      },
      (err: Error) => post({ type: "init_failed", name: err.name, message: err.message }),
    );
    return;
  }
  if (!QUEUED.has(m.type)) {
    core?.handle(m).catch(failed(m));
    return;
  }
  queue = queue.then(() => core?.handle(m)).catch(failed(m)).then(() => {
    if (m.type === "close") self.close();
  });
};

const failed = (m: ToWorker) => (err: Error) =>
  getLogger("audio-plane").error("control message failed", { type: m.type, error: err.message });
