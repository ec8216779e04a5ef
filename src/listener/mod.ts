/**
 * The browser listener: the page at `/` (a phone scans the admin page's QR
 * code, picks channels, mixes and hears them — no app) and its transports.
 *
 *   GET /                        the page (web/listener/index.html)
 *   GET /listener/listener.css   its style
 *   GET /listener/listener.js    its script: web/listener/listener.ts bundled for
 *                                the browser into web/gen/listener.js
 *                                (`deno task build:web`, web/build.ts)
 *   GET /listener/worklet.js     the AudioWorklet playout module (secure contexts)
 *   GET /listener/audio-worker.js  the Worker that receives WebTransport and
 *                                decodes off the page's main thread (HTTPS)
 *   GET /listen?transport=…      the listener WebSocket (./socket.ts)
 *   GET /listener/webtransport   where the WebTransport endpoint is and its
 *                                certificate hash (HTTPS only; ./webtransport.ts)
 *   GET /manifest.webmanifest, /sw.js, /listener/icon-*.png
 *                                the installable app (./pwa.ts)
 *
 * Everything is embedded in the program as text and served from memory with
 * a strict Content-Security-Policy: no inline script or style; WebAssembly
 * (the Opus decoder) is the only code compiled at run time.
 */
import type { Context, Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import type { AppExtension } from "../http/app.ts";
import { remoteIp } from "../http/app.ts";
import { ApiError, badRequest } from "../http/errors.ts";
import { isIpv4, localAddressFor } from "../net/local_address.ts";
import { attachListenerSocket, LISTENER_TRANSPORTS, type ListenerTransport } from "./socket.ts";
import indexHtml from "../../web/listener/index.html" with { type: "text" };
import listenerCss from "../../web/listener/listener.css" with { type: "text" };
import listenerJs from "../../web/gen/listener.js" with { type: "text" };
import workletJs from "../../web/gen/worklet.js" with { type: "text" };
import audioWorkerJs from "../../web/gen/audio_worker.js" with { type: "text" };
import handoffHtml from "../../web/listener/handoff.html" with { type: "text" };
import handoffJs from "../../web/gen/handoff.js" with { type: "text" };
import { boxId, boxOrigins, UsedOrigins } from "./identity.ts";
import type { WebTransportServer } from "./webtransport.ts";
import { mountPwa } from "./pwa.ts";

/**
 * The page's Content-Security-Policy. `connect` adds the box's other origins
 * (./identity.ts): the page asks them whether they hold this musician's mix.
 */
export function listenerCsp(connect: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    ["connect-src 'self'", ...connect].join(" "),
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export const LISTENER_CSP = listenerCsp();

const HEADERS: Record<string, string> = {
  "Content-Security-Policy": LISTENER_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-cache",
};

const AUDIO_WORKER_PATH = "/listener/audio-worker.js";

const FILES: Record<string, { body: string; type: string }> = {
  "/": { body: indexHtml, type: "text/html; charset=utf-8" },
  "/listener/listener.css": { body: listenerCss, type: "text/css; charset=utf-8" },
  "/listener/listener.js": { body: listenerJs, type: "text/javascript; charset=utf-8" },
  "/listener/worklet.js": { body: workletJs, type: "text/javascript; charset=utf-8" },
  "/listener/audio-worker.js": { body: audioWorkerJs, type: "text/javascript; charset=utf-8" },
  "/listener/handoff": { body: handoffHtml, type: "text/html; charset=utf-8" },
  "/listener/handoff.js": { body: handoffJs, type: "text/javascript; charset=utf-8" },
};

/** The server address the page used (an IPv4 literal in Host), else the one facing the client. */
function hostAddressOf(c: Context, ip: string): string {
  const host = new URL(c.req.url).hostname;
  return isIpv4(host) ? host : localAddressFor(ip);
}

function transportOf(raw: string | undefined): ListenerTransport {
  const t = (raw ?? "websocket") as ListenerTransport;
  if (!LISTENER_TRANSPORTS.includes(t)) {
    throw badRequest(
      "invalid_value",
      `transport must be websocket, datachannel or webtransport, got ${raw}`,
    );
  }
  return t;
}

const webTransportOff = () =>
  new ApiError(
    409,
    "webtransport_unavailable",
    "WebTransport needs HTTPS, which is off on this server",
  );

export interface ListenerOptions {
  /** The WebTransport endpoint while HTTPS is on, else null. */
  webtransport?: () => WebTransportServer | null;
  /** The address the HTTP server is bound to (the box's origins follow from it). */
  hostname?: string;
}

export function listenerExtension(opts: ListenerOptions = {}): AppExtension {
  const wt = () => opts.webtransport?.() ?? null;
  return (app: Hono, ctx) => {
    app.get("/listener/webtransport", (c) => {
      const server = wt();
      if (!server) throw webTransportOff();
      return c.json(server.info(new URL(c.req.url).hostname), 200, { "Cache-Control": "no-store" });
    });
    const id = boxId(ctx.store);
    const origins = () =>
      boxOrigins({
        hostname: opts.hostname ?? "0.0.0.0",
        httpPort: ctx.httpPort(),
        httpsPort: ctx.https.status().listening_port,
      });
    const used = new UsedOrigins(ctx.store);
    /** The box's origins, and the WebTransport URL's when it names another port than HTTPS's. */
    const connectOrigins = (pageUrl: string): string[] => {
      const server = wt();
      if (!server || server.publicPort === server.port) return origins();
      return [...origins(), new URL(server.info(new URL(pageUrl).hostname).url).origin];
    };
    app.get(
      "/listener/identity",
      (c) =>
        c.json({ box_id: id, origins: origins(), used: used.list() }, 200, {
          "Cache-Control": "no-store",
          // Read by the box's page at its other origins (nothing secret in it).
          "Access-Control-Allow-Origin": "*",
        }),
    );
    for (const [path, file] of Object.entries(FILES)) {
      app.get(path, (c) => {
        if (path === "/") used.add(new URL(c.req.url).origin, origins());
        return c.body(file.body, 200, {
          ...HEADERS,
          // The page's and the audio worker's (a worker has the CSP of its script's response).
          ...(path === "/" || path === AUDIO_WORKER_PATH
            ? { "Content-Security-Policy": listenerCsp(connectOrigins(c.req.url)) }
            : {}),
          "Content-Type": file.type,
        });
      });
    }
    mountPwa(app, HEADERS);
    app.get(
      "/listen",
      async (c, next) => {
        // 400 / 409 before the upgrade
        if (transportOf(c.req.query("transport")) === "webtransport" && !wt()) {
          throw webTransportOff();
        }
        await next();
      },
      upgradeWebSocket((c) => {
        const ip = remoteIp(c);
        return attachListenerSocket(ctx, {
          ip,
          transport: transportOf(c.req.query("transport")),
          hostAddress: hostAddressOf(c, ip),
          webtransport: wt(),
          userAgent: c.req.header("user-agent") ?? null,
        });
      }),
    );
  };
}
