/**
 * The listener as an installable app (add to home screen): its web app
 * manifest, icons and service worker.
 *
 *   GET /manifest.webmanifest        the manifest: the box's name, full screen, icons
 *   GET /listener/icon-180.png       apple-touch-icon (iOS home screen)
 *   GET /listener/icon-192.png       manifest icons
 *   GET /listener/icon-512.png
 *   GET /listener/icon-512-maskable.png   full-bleed, for launchers that cut their own shape
 *   GET /sw.js                       the service worker (web/listener/sw.ts; scope /)
 */
import type { Hono } from "hono";
import { mdnsName } from "../tls/certificates.ts";
import { iconPng, type IconSize } from "./icons.ts";
import swJs from "../../web/gen/sw.js" with { type: "text" };
import { type Language, pickLanguage, t } from "../../web/i18n/i18n.ts";

/** The page's background (listener.css --bg): the splash screen and the status bar. */
const BACKGROUND = "#0f1216";
/** Longest short_name a home screen shows in full. */
const SHORT_NAME_MAX = 12;

/** The box's name as musicians know it: its host name (`<name>.local`), without `.local`. */
export function boxName(): string {
  return mdnsName().replace(/\.local$/, "");
}

export interface WebAppManifest {
  id: string;
  lang: Language;
  name: string;
  short_name: string;
  description: string;
  start_url: string;
  scope: string;
  display: string;
  display_override: string[];
  orientation: string;
  background_color: string;
  theme_color: string;
  icons: { src: string; sizes: string; type: string; purpose: string }[];
}

/** The languages an Accept-Language header asks for, most wanted first ("ko-KR,ko;q=0.9,en;q=0.8"). */
export function acceptedLanguages(header: string | null | undefined): string[] {
  return (header ?? "").split(",").map((part, i) => {
    const [tag, ...params] = part.trim().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find((m) => m);
    return { tag: tag.trim(), q: q ? Number(q[1]) : 1, i };
  }).filter((l) => l.tag !== "" && l.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((l) => l.tag);
}

/** The manifest in `lang` (the phone's language: what its home screen shows). */
export function manifest(box = boxName(), lang: Language = "en"): WebAppManifest {
  return {
    id: "/",
    lang,
    name: t("l_app_name", { box }, lang),
    short_name: box.length <= SHORT_NAME_MAX ? box : t("l_title", undefined, lang),
    description: t("l_app_description", { box }, lang),
    start_url: "/",
    scope: "/",
    display: "fullscreen",
    display_override: ["fullscreen", "standalone"],
    orientation: "portrait",
    background_color: BACKGROUND,
    theme_color: BACKGROUND,
    icons: [
      { src: "/listener/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
      { src: "/listener/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
      {
        src: "/listener/icon-512-maskable.png",
        sizes: "512x512",
        type: "image/png",
        purpose: "maskable",
      },
    ],
  };
}

const ICONS: Record<string, [IconSize, boolean]> = {
  "/listener/icon-180.png": [180, false],
  "/listener/icon-192.png": [192, false],
  "/listener/icon-512.png": [512, false],
  "/listener/icon-512-maskable.png": [512, true],
};

export function mountPwa(app: Hono, headers: Record<string, string>): void {
  app.get("/manifest.webmanifest", (c) => {
    const lang = pickLanguage(acceptedLanguages(c.req.header("accept-language")));
    return c.body(JSON.stringify(manifest(boxName(), lang)), 200, {
      ...headers,
      "Content-Type": "application/manifest+json; charset=utf-8",
      "Vary": "Accept-Language",
    });
  });
  for (const [path, [size, maskable]] of Object.entries(ICONS)) {
    app.get(
      path,
      async (c) =>
        c.body((await iconPng(size, maskable)) as Uint8Array<ArrayBuffer>, 200, {
          ...headers,
          "Content-Type": "image/png",
          "Cache-Control": "max-age=86400",
        }),
    );
  }
  app.get("/sw.js", (c) =>
    c.body(swJs, 200, {
      ...headers,
      "Content-Type": "text/javascript; charset=utf-8",
      // Checked for a new version at every page load (browsers cap this at 24 h anyway).
      "Cache-Control": "no-cache",
    }));
}
