/// <reference no-default-lib="true" />
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The listener's service worker (registered on HTTPS, where browsers allow
 * one): keeps the page's shell so the page opens from the home screen even
 * while the box is unreachable, and then says "Looking for the box…" itself
 * (web/listener/connection.ts) instead of the browser's error page.
 *
 * Network first, always: every shell file is fetched from the box when it
 * answers (and the copy refreshed), so an updated box serves its new page at
 * once; the copy is used only when the box does not answer within
 * NETWORK_TIMEOUT_MS. The audio and the API (/listen, /audio-meta, /health,
 * WebTransport…) never go through the cache.
 */
declare const self: ServiceWorkerGlobalScope;

const CACHE = "m32-listener-shell-v1";
/** What the page needs to start (the manifest's icons too, for the home screen). */
const SHELL = [
  "/",
  "/listener/listener.css",
  "/listener/listener.js",
  "/listener/worklet.js",
  "/listener/audio-worker.js",
  "/manifest.webmanifest",
  "/listener/icon-192.png",
  "/listener/icon-512.png",
];
/** A box on the stage Wi-Fi answers in milliseconds; beyond this it is not there. */
const NETWORK_TIMEOUT_MS = 3000;

self.addEventListener("install", (e) => {
  e.waitUntil(
    caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // The page itself under any query (?transport=…), and the shell's files.
  const key = req.mode === "navigate" && url.pathname === "/" ? "/" : url.pathname;
  if (!SHELL.includes(key)) return;
  e.respondWith(networkFirst(req, key));
});

async function networkFirst(req: Request, key: string): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req, { signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) });
    if (res.ok) await cache.put(key, res.clone());
    return res;
  } catch {
    const copy = await cache.match(key);
    return copy ?? Response.error();
  }
}
