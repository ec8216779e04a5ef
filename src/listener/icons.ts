/**
 * The listener's home-screen icons, drawn here (no image files in the tree):
 * three faders on the page's accent gradient. `maskable` fills the whole
 * square (the launcher cuts its own shape; everything that matters sits in
 * the central 80 % circle, the W3C manifest's safe zone); the plain one is a
 * rounded square on transparency.
 */
import { encodePng } from "../util/png.ts";

/** Sizes the manifest and the iOS apple-touch-icon ask for (px). */
export const ICON_SIZES = [180, 192, 512] as const;
export type IconSize = typeof ICON_SIZES[number];

/** Corner radius of the plain icon, of its size. */
const CORNER = 0.22;
/** The gradient: --accent (#3fb6ff) at the top to #7c5cff at the bottom (listener.css). */
const TOP = [0x3f, 0xb6, 0xff];
const BOTTOM = [0x7c, 0x5c, 0xff];
/** Faders: x centres, knob heights (0 top … 1 bottom), in the unit square. */
const FADER_X = [0.3, 0.5, 0.7];
const KNOB_Y = [0.6, 0.36, 0.5];
const SLOT = { halfW: 0.018, top: 0.22, bottom: 0.78 };
const KNOB = { halfW: 0.075, halfH: 0.045, r: 0.02 };
/** The slots: a dark grey over the gradient at this opacity. */
const SLOT_RGB = 15;
const SLOT_OPACITY = 0.55;

/** Signed distance from (x, y) to a rounded rectangle centred at (cx, cy). */
function roundedRect(
  x: number,
  y: number,
  cx: number,
  cy: number,
  halfW: number,
  halfH: number,
  r: number,
): number {
  const qx = Math.abs(x - cx) - halfW + r;
  const qy = Math.abs(y - cy) - halfH + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

/** How much of a pixel a shape covers, from its signed distance (unit square) at `size` px. */
function coverage(d: number, size: number): number {
  return Math.min(1, Math.max(0, 0.5 - d * size));
}

/** The icon's pixels (RGBA, row-major), edges anti-aliased from the shapes' distances. */
export function drawIcon(size: number, maskable: boolean): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  const slotCy = (SLOT.top + SLOT.bottom) / 2;
  const slotHalfH = (SLOT.bottom - SLOT.top) / 2;
  const rgb = [0, 0, 0];
  for (let py = 0; py < size; py++) {
    const y = (py + 0.5) / size;
    for (let pxx = 0; pxx < size; pxx++) {
      const x = (pxx + 0.5) / size;
      const alpha = maskable ? 1 : coverage(roundedRect(x, y, 0.5, 0.5, 0.5, 0.5, CORNER), size);
      for (let c = 0; c < 3; c++) rgb[c] = TOP[c] + (BOTTOM[c] - TOP[c]) * y;
      for (let i = 0; i < FADER_X.length; i++) {
        const slot = coverage(
          roundedRect(x, y, FADER_X[i], slotCy, SLOT.halfW, slotHalfH, SLOT.halfW),
          size,
        );
        for (let c = 0; c < 3; c++) rgb[c] += (SLOT_RGB - rgb[c]) * slot * SLOT_OPACITY;
        const knob = coverage(
          roundedRect(x, y, FADER_X[i], KNOB_Y[i], KNOB.halfW, KNOB.halfH, KNOB.r),
          size,
        );
        for (let c = 0; c < 3; c++) rgb[c] += (255 - rgb[c]) * knob;
      }
      const o = (py * size + pxx) * 4;
      px[o] = Math.round(rgb[0]);
      px[o + 1] = Math.round(rgb[1]);
      px[o + 2] = Math.round(rgb[2]);
      px[o + 3] = Math.round(alpha * 255);
    }
  }
  return px;
}

const cache = new Map<string, Promise<Uint8Array>>();

/** The icon as a PNG, drawn once per size and kind. */
export function iconPng(size: IconSize, maskable = false): Promise<Uint8Array> {
  const key = `${size}:${maskable}`;
  let p = cache.get(key);
  if (!p) {
    p = encodePng(size, size, drawIcon(size, maskable));
    cache.set(key, p);
  }
  return p;
}
