/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The page's audio path off the main thread (HTTPS: WebTransport datagrams
 * played through the AudioWorklet). A dedicated Worker, bundled on its own
 * into web/gen/audio_worker.js (web/build.ts) and
 * served as /listener/audio-worker.js (script-src 'self' covers it).
 *
 *   main thread (listener/audio_link.ts)          this worker
 *   control WebSocket → token, certificate hash
 *   {t:"open", url, hash} ──────────────────────▶  new WebTransport → datagrams
 *   {t:"stream", ack} / {t:"offset"} ───────────▶  PageReceiver (listener/page_receiver.ts:
 *                                                  the shared src/client/receiver.ts + wasm Opus):
 *                                                  RTP → Opus/PCM decode → WorkletSink
 *   ◀── {t:"ready"|"closed"} (the connection's reconnect logic runs there)
 *   ◀── {t:"stats"} every STATS_MS (quality display, /qos-metrics, test hook)
 *
 *   {t:"port"}: one end of a MessageChannel whose other end the worklet has;
 *   decoded packets go straight to the audio thread, so a busy main thread
 *   (rendering, a dragged fader) does not delay them.
 */
import { PageReceiver, type ReceiveStats } from "./page_receiver.ts";
import { WorkletSink } from "./worklet_playout.ts";
import type { ListenerAck } from "./connection.ts";
import type { ToAudioWorkerPort, ToWorklet } from "./worklet.ts";
import { DEFAULT_JITTER_THRESHOLDS } from "../../src/client/api.ts";

/** Messages from the page. */
export type ToAudioWorker =
  | { t: "port"; port: MessagePort }
  | { t: "open"; id: number; url: string; hash: Uint8Array<ArrayBuffer> }
  | { t: "close"; id: number }
  | { t: "stream"; ack: ListenerAck }
  | { t: "offset"; offsetMs: number };

/** The receive statistics (listener/page_receiver.ts), as the page shows and reports them. */
export type AudioWorkerStats = ReceiveStats;

/** Messages to the page. */
export type FromAudioWorker =
  | { t: "ready"; id: number }
  /** The session ended; `error` says why when it failed. */
  | { t: "closed"; id: number; error?: string }
  | { t: "stats"; stats: AudioWorkerStats };

const STATS_MS = 250;

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<ToAudioWorker>) => void) | null;
  postMessage(m: FromAudioWorker): void;
};
const wallNow = () => performance.timeOrigin + performance.now();

let port: MessagePort | null = null;
let offsetMs = 0;
let configured = false;
let session: { id: number; wt: WebTransport } | null = null;

const sink = new WorkletSink(
  { ...DEFAULT_JITTER_THRESHOLDS },
  // Packets before the worklet's port arrives are dropped, as the page drops them.
  (m: ToWorklet, transfer?: Transferable[]) => port?.postMessage(m, transfer ?? []),
  () => ({ offsetMs, newestCaptureEndMs: receiver.newestCaptureEndMs }),
);
const receiver: PageReceiver = new PageReceiver(sink, wallNow(), () => offsetMs);

function post(m: FromAudioWorker): void {
  scope.postMessage(m);
}

async function open(id: number, url: string, hash: Uint8Array<ArrayBuffer>): Promise<void> {
  close();
  let wt: WebTransport;
  try {
    wt = new WebTransport(url, {
      serverCertificateHashes: [{ algorithm: "sha-256", value: hash }],
      requireUnreliable: true,
    });
  } catch (e) {
    post({ t: "closed", id, error: `WebTransport refused: ${(e as Error).message}` });
    return;
  }
  session = { id, wt };
  wt.closed.then(() => undefined, (e) => String((e as Error).message)).then((error) => {
    if (session?.wt === wt) session = null;
    post({ t: "closed", id, error });
  });
  try {
    await wt.ready;
  } catch {
    return; // closed rejects too, and says why
  }
  if (session?.wt !== wt) {
    wt.close();
    return;
  }
  post({ t: "ready", id });
  const reader = wt.datagrams.readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || session?.wt !== wt) break;
      receiver.onPacket(value as Uint8Array, wallNow());
    }
  } catch { /* the session closed: `closed` tells the page */ }
}

function close(): void {
  const s = session;
  session = null;
  try {
    s?.wt.close();
  } catch { /* already closed */ }
}

scope.onmessage = (e) => {
  const m = e.data;
  switch (m.t) {
    case "port":
      port = m.port;
      port.onmessage = (e: MessageEvent<ToAudioWorkerPort>) => {
        if (e.data?.t === "timing") sink.applyTiming(e.data.timing);
      };
      return;
    case "open":
      void open(m.id, m.url, m.hash);
      return;
    case "close":
      if (session?.id === m.id) close();
      return;
    case "stream":
      configured = true;
      void receiver.configure(m.ack);
      return;
    case "offset":
      offsetMs = m.offsetMs;
      return;
  }
};

setInterval(() => {
  if (!configured) return;
  post({ t: "stats", stats: receiver.stats() });
}, STATS_MS);
