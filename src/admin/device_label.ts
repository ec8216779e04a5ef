/**
 * A short, human label for a connected client from its User-Agent
 * ("iPhone · Safari", "Android (Pixel 8) · Chrome", "Deno"). The protocol
 * has no field for a name the musician sets (docs/protocol.md §4:
 * `client_config` carries channels, rate and compression only), so the
 * admin page's clients table names a phone by what it is.
 */

/** Longest label (a hostile User-Agent must not widen the table). */
export const DEVICE_LABEL_MAX = 40;

/** The stand-in model names ("K") Chrome's reduced User-Agent puts where the phone model was. */
const REDUCED_MODELS = new Set(["K", "Mobile", ""]);

/** Browser tokens, most specific first (every Chromium says "Chrome", every iOS browser "Safari"). */
const BROWSERS: readonly [RegExp, string][] = [
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\b(?:EdgA|EdgiOS|Edg)\//, "Edge"],
  [/\b(?:OPR|OPiOS)\//, "Opera"],
  [/\b(?:Firefox|FxiOS)\//, "Firefox"],
  [/\b(?:CriOS|HeadlessChrome|Chrome|Chromium)\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
];

function system(ua: string): string | null {
  if (/\biPhone\b/.test(ua)) return "iPhone";
  if (/\biPad\b/.test(ua)) return "iPad";
  const android = /\bAndroid(?: [\d.]+)?(?:; ([^;)]+))?/.exec(ua);
  if (android) {
    const model = (android[1] ?? "").replace(/\s+Build\/.*$/, "").trim();
    return REDUCED_MODELS.has(model) ? "Android" : `Android (${model})`;
  }
  if (/\bCrOS\b/.test(ua)) return "ChromeOS";
  if (/\bMacintosh\b/.test(ua)) return "Mac";
  if (/\bWindows\b/.test(ua)) return "Windows";
  if (/\bLinux\b/.test(ua)) return "Linux";
  return null;
}

function clip(s: string): string {
  return s.length <= DEVICE_LABEL_MAX ? s : `${s.slice(0, DEVICE_LABEL_MAX - 1)}…`;
}

/** The label for `userAgent`; a non-browser client is named by its first product token ("Deno"). */
export function deviceLabel(userAgent: string): string | null {
  // deno-lint-ignore no-control-regex
  const ua = userAgent.replace(/[\x00-\x1f\x7f]/g, " ").trim();
  if (ua === "") return null;
  const os = system(ua);
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1] ?? null;
  if (os && browser) return clip(`${os} · ${browser}`);
  if (os) return clip(os);
  const product = /^[^\s/]+/.exec(ua)?.[0] ?? ua;
  return clip(product);
}
