/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The mixer's channel strips as DOM: name, level meter, mute/solo, fader,
 * pan and a 3-band EQ per channel, plus the master strip. Every control
 * writes the channel's §11 settings object and calls `onChange`.
 */
import type { ChannelSettings, ClientSettings, LimitSettings } from "../../src/client/settings.ts";
import { EQ_MAX_DB, VOLUME_MAX } from "../../src/client/settings.ts";

type Attrs = Record<string, string>;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function volumeLabel(v: number): string {
  if (v <= 0.0005) return "−∞";
  const db = 20 * Math.log10(v);
  return `${db > 0.05 ? "+" : db < -0.05 ? "−" : ""}${Math.abs(db).toFixed(1)} dB`;
}

export function panLabel(p: number): string {
  if (Math.abs(p) < 0.01) return "C";
  return `${p < 0 ? "L" : "R"}${Math.round(Math.abs(p) * 100)}`;
}

function slider(
  cls: string,
  label: string,
  min: number,
  max: number,
  step: number,
  value: number,
  show: (v: number) => string,
  set: (v: number) => void,
  reset: number,
): HTMLElement {
  const input = el("input", {
    type: "range",
    class: cls,
    min: String(min),
    max: String(max),
    step: String(step),
    "aria-label": label,
  });
  input.value = String(value);
  const out = el("output", {}, show(value));
  input.addEventListener("input", () => {
    const v = Number(input.value);
    out.textContent = show(v);
    set(v);
  });
  // Double-tap the value to go back to the default.
  out.addEventListener("dblclick", () => {
    input.value = String(reset);
    input.dispatchEvent(new Event("input"));
  });
  return el("label", { class: "row" }, el("span", { class: "row-label" }, label), input, out);
}

function toggle(cls: string, text: string, title: string, on: boolean, set: (on: boolean) => void) {
  const b = el("button", {
    type: "button",
    class: `toggle ${cls}`,
    title,
    "aria-pressed": String(on),
  }, text);
  b.addEventListener("click", () => {
    const next = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", String(next));
    set(next);
  });
  return b;
}

export interface StripView {
  root: HTMLElement;
  meter: HTMLElement;
}

export function channelStrip(ch: ChannelSettings, onChange: () => void): StripView {
  const meter = el("div", { class: "meter-fill" });
  const eqRow = (band: "low" | "mid" | "high", label: string) =>
    slider(
      `eq-${band}`,
      label,
      -EQ_MAX_DB,
      EQ_MAX_DB,
      0.5,
      ch.eq[band],
      (v) => `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(1)} dB`,
      (v) => {
        ch.eq[band] = v;
        onChange();
      },
      0,
    );
  const root = el(
    "section",
    { class: "strip", "data-id": String(ch.id) },
    el(
      "div",
      { class: "strip-head" },
      el("span", { class: "ch-num" }, String(ch.id).padStart(2, "0")),
      el("span", { class: "ch-name" }, ch.name),
      toggle("mute", "M", "Mute", ch.mute, (on) => {
        ch.mute = on;
        onChange();
      }),
      toggle("solo", "S", "Solo", ch.solo, (on) => {
        ch.solo = on;
        onChange();
      }),
    ),
    el("div", { class: "meter", "aria-hidden": "true" }, meter),
    slider("vol", "Level", 0, VOLUME_MAX, 0.01, ch.volume, volumeLabel, (v) => {
      ch.volume = v;
      onChange();
    }, 1),
    slider("pan", "Pan", -1, 1, 0.05, ch.pan, panLabel, (v) => {
      ch.pan = v;
      onChange();
    }, 0),
    el(
      "details",
      { class: "eq" },
      el("summary", {}, "EQ"),
      eqRow("low", "Low"),
      eqRow("mid", "Mid"),
      eqRow("high", "High"),
    ),
  );
  return { root, meter };
}

export function masterStrip(settings: ClientSettings, onChange: () => void): HTMLElement {
  const limitOn = () => {
    const l = settings.master.limit;
    return typeof l === "boolean" ? l : (l as LimitSettings).enabled;
  };
  return el(
    "section",
    { class: "strip master" },
    el(
      "div",
      { class: "strip-head" },
      el("span", { class: "ch-name" }, "Master"),
      toggle("limit", "Limiter", "Output limiter (−1 dBFS)", limitOn(), (on) => {
        settings.master.limit = on;
        onChange();
      }),
    ),
    slider(
      "vol master-vol",
      "Level",
      0,
      VOLUME_MAX,
      0.01,
      settings.master.volume,
      volumeLabel,
      (v) => {
        settings.master.volume = v;
        onChange();
      },
      1,
    ),
  );
}
