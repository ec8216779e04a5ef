/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * A touch-safe fader: a native range input (keyboard, screen readers, the
 * value) that ignores the pointer, with a thumb handle on top that is the only
 * thing a finger can move it by.
 *
 *   row ─ label · [fader: input type=range (pointer-events: none)      ] · value
 *                         └─ thumb (44 × 44 px touch target, touch-action: none)
 *
 * - A tap or swipe on the track reaches the fader box (touch-action: pan-y):
 *   the page scrolls, the value stays.
 * - A drag that starts on the thumb moves the value by the finger's
 *   horizontal movement from where it grabbed (relative, no jump):
 *   Δvalue = Δx / (track width − thumb width) · (max − min), snapped to step.
 * - Arrow keys, Page Up/Down, Home/End: the input's own.
 * - The value is spoken from `aria-valuetext`; nothing here is a live region.
 */

/** Visible knob diameter (the input's own thumb, kept invisible, is the same size). */
export const THUMB_PX = 26;

export interface FaderSpec {
  /** Class of the input (tests and styles find faders by it: "vol", "pan", "eq-low"). */
  cls: string;
  /** Short visible label ("Level"). */
  label: string;
  /** Accessible name, with the channel ("Level Kick"). */
  name: string;
  min: number;
  max: number;
  step: number;
  value: number;
  /** The value double-tapping the shown value goes back to. */
  reset: number;
  /** Shown beside the fader ("−6.0 dB", "L20"). */
  show: (v: number) => string;
  /** Spoken by screen readers ("−6 dB", "L 20", "centre"). */
  speak: (v: number) => string;
  set: (v: number) => void;
}

/**
 * The value after dragging `dxPx` from a grab at `start` on a track whose
 * thumb travels `travelPx`, snapped to `step` from `min` and clamped.
 */
export function dragValue(
  start: number,
  dxPx: number,
  travelPx: number,
  min: number,
  max: number,
  step: number,
): number {
  if (!(travelPx > 0)) return start;
  const raw = start + (dxPx / travelPx) * (max - min);
  const snapped = min + Math.round((raw - min) / step) * step;
  const clamped = Math.max(min, Math.min(max, snapped));
  return Number(clamped.toFixed(6)); // no 0.30000000000000004
}

export function fader(spec: FaderSpec, attrs: Record<string, string> = {}): HTMLElement {
  const input = document.createElement("input");
  input.type = "range";
  input.className = spec.cls;
  input.min = String(spec.min);
  input.max = String(spec.max);
  input.step = String(spec.step);
  input.value = String(spec.value);
  input.setAttribute("aria-label", spec.name);
  for (const [k, v] of Object.entries(attrs)) input.setAttribute(k, v);
  const thumb = document.createElement("span");
  thumb.className = "thumb";
  thumb.setAttribute("aria-hidden", "true");
  const box = document.createElement("div");
  box.className = "fader";
  box.append(input, thumb);
  const value = document.createElement("span");
  value.className = "value";
  value.setAttribute("aria-hidden", "true");

  const show = () => {
    const v = Number(input.value);
    value.textContent = spec.show(v);
    input.setAttribute("aria-valuetext", spec.speak(v));
    box.style.setProperty("--frac", String((v - spec.min) / (spec.max - spec.min)));
  };
  input.addEventListener("input", () => {
    show();
    spec.set(Number(input.value));
  });
  const setValue = (v: number) => {
    if (String(v) === input.value) return;
    input.value = String(v);
    input.dispatchEvent(new Event("input"));
  };
  // Double-tap the value to go back to the default.
  value.addEventListener("dblclick", () => {
    if (!input.disabled) setValue(spec.reset);
  });

  let grab: { id: number; x: number; start: number; travel: number } | null = null;
  thumb.addEventListener("pointerdown", (e) => {
    if (input.disabled || grab) return;
    e.preventDefault();
    thumb.setPointerCapture(e.pointerId);
    const travel = input.getBoundingClientRect().width - THUMB_PX;
    grab = { id: e.pointerId, x: e.clientX, start: Number(input.value), travel };
    box.dataset.dragging = "true";
  });
  thumb.addEventListener("pointermove", (e) => {
    if (!grab || e.pointerId !== grab.id || input.disabled) return;
    const { start, x, travel } = grab;
    setValue(dragValue(start, e.clientX - x, travel, spec.min, spec.max, spec.step));
  });
  const release = (e: PointerEvent) => {
    if (!grab || e.pointerId !== grab.id) return;
    grab = null;
    delete box.dataset.dragging;
  };
  thumb.addEventListener("pointerup", release);
  thumb.addEventListener("pointercancel", release);

  show();
  const label = document.createElement("span");
  label.className = "row-label";
  label.setAttribute("aria-hidden", "true");
  label.textContent = spec.label;
  const row = document.createElement("div");
  row.className = "row";
  row.append(label, box, value);
  return row;
}
