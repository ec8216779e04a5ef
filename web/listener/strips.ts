/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The mixer's channel strips as DOM: name, level meter, mute/solo, fader,
 * pan and a 3-band EQ per channel, plus the master strip (level, limiter,
 * post-mix meter and clip indicator). Every control writes the channel's §11
 * settings object and calls `onChange`.
 *
 * Every control is named with its channel ("Mute Kick", "Level Kick"); the
 * controls the lock makes inert carry `data-lockable` (all but the mutes and
 * the master level: see `applyLock`).
 */
import type { ChannelSettings, ClientSettings, LimitSettings } from "../../src/client/settings.ts";
import { EQ_MAX_DB, MORE_ME_MAX_DB, PAN_MAX, VOLUME_MAX } from "../../src/client/settings.ts";
import { fader } from "./fader.ts";
import { dbText, eqLabel, panLabel, panText, volumeLabel, volumeText } from "./value_text.ts";
import { type MessageKey, t } from "../i18n/i18n.ts";

type Attrs = Record<string, string>;

const LOCKABLE: Attrs = { "data-lockable": "" };
const VOLUME_STEP = 0.01;
const PAN_STEP = 0.05;
const EQ_STEP = 0.5;

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

function toggle(
  cls: string,
  text: string,
  name: string,
  on: boolean,
  set: (on: boolean) => void,
  attrs: Attrs = {},
) {
  const b = el("button", {
    type: "button",
    class: `toggle ${cls}`,
    "aria-label": name,
    "aria-pressed": String(on),
    ...attrs,
  }, text);
  b.addEventListener("click", () => {
    const next = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", String(next));
    set(next);
  });
  return b;
}

/** Makes every `data-lockable` control under `root` inert (or usable again). */
export function applyLock(root: ParentNode, locked: boolean): void {
  for (const c of root.querySelectorAll<HTMLInputElement | HTMLButtonElement>("[data-lockable]")) {
    c.disabled = locked;
  }
}

export interface StripView {
  root: HTMLElement;
  meter: HTMLElement;
}

export function channelStrip(ch: ChannelSettings, onChange: () => void): StripView {
  const meter = el("div", { class: "meter-fill" });
  const name = ch.name;
  const eqRow = (band: "low" | "mid" | "high", label: MessageKey, named: MessageKey) =>
    fader({
      cls: `eq-${band}`,
      label: t(label),
      name: t(named, { name }),
      min: -EQ_MAX_DB,
      max: EQ_MAX_DB,
      step: EQ_STEP,
      value: ch.eq[band],
      reset: 0,
      show: eqLabel,
      speak: dbText,
      set: (v) => {
        ch.eq[band] = v;
        onChange();
      },
    }, LOCKABLE);
  const root = el(
    "section",
    { class: "strip", "data-id": String(ch.id), role: "group", "aria-label": name },
    el(
      "div",
      { class: "strip-head" },
      el("span", { class: "ch-num", "aria-hidden": "true" }, String(ch.id).padStart(2, "0")),
      el("span", { class: "ch-name", "aria-hidden": "true" }, name),
      toggle("mute", t("l_mute"), t("l_mute_ch", { name }), ch.mute, (on) => {
        ch.mute = on;
        onChange();
      }),
      toggle("solo", t("l_solo"), t("l_solo_ch", { name }), ch.solo, (on) => {
        ch.solo = on;
        onChange();
      }, LOCKABLE),
      toggle("me", t("l_me"), t("l_me_ch", { name }), ch.me, (on) => {
        ch.me = on;
        onChange();
      }, LOCKABLE),
    ),
    el("div", { class: "meter", "aria-hidden": "true" }, meter),
    fader({
      cls: "vol",
      label: t("l_level"),
      name: t("l_level_ch", { name }),
      min: 0,
      max: VOLUME_MAX,
      step: VOLUME_STEP,
      value: ch.volume,
      reset: 1,
      show: volumeLabel,
      speak: volumeText,
      set: (v) => {
        ch.volume = v;
        onChange();
      },
    }, LOCKABLE),
    fader({
      cls: "pan",
      label: t("l_pan"),
      name: t("l_pan_ch", { name }),
      min: -PAN_MAX,
      max: PAN_MAX,
      step: PAN_STEP,
      value: ch.pan,
      reset: 0,
      show: panLabel,
      speak: panText,
      set: (v) => {
        ch.pan = v;
        onChange();
      },
    }, LOCKABLE),
    el(
      "details",
      { class: "eq" },
      el("summary", {}, t("l_eq")),
      eqRow("low", "l_eq_low", "l_eq_low_ch"),
      eqRow("mid", "l_eq_mid", "l_eq_mid_ch"),
      eqRow("high", "l_eq_high", "l_eq_high_ch"),
    ),
  );
  return { root, meter };
}

export interface MasterView {
  root: HTMLElement;
  /** The post-mix meter's bar. */
  meter: HTMLElement;
  /** The clip indicator (a button: tapping it clears it). */
  clip: HTMLButtonElement;
}

export function masterStrip(settings: ClientSettings, onChange: () => void): MasterView {
  const limitOn = () => {
    const l = settings.master.limit;
    return typeof l === "boolean" ? l : (l as LimitSettings).enabled;
  };
  const meter = el("div", { class: "meter-fill" });
  const clip = el("button", {
    type: "button",
    class: "clip",
    "data-lit": "false",
    "aria-label": t("l_clip_clear"),
  }, t("l_clip"));
  const root = el(
    "section",
    { class: "strip master", role: "group", "aria-label": t("l_master") },
    el(
      "div",
      { class: "strip-head" },
      el("span", { class: "ch-name", "aria-hidden": "true" }, t("l_master")),
      clip,
      toggle(
        "limit",
        t("l_limiter"),
        t("l_limiter_label"),
        limitOn(),
        (on) => {
          settings.master.limit = on;
          onChange();
        },
        LOCKABLE,
      ),
    ),
    el("div", { class: "meter master-meter", "aria-hidden": "true" }, meter),
    fader({
      cls: "vol master-vol",
      label: t("l_level"),
      name: t("l_master_level"),
      min: 0,
      max: VOLUME_MAX,
      step: VOLUME_STEP,
      value: settings.master.volume,
      reset: 1,
      show: volumeLabel,
      speak: volumeText,
      set: (v) => {
        settings.master.volume = v;
        onChange();
      },
    }),
    fader({
      cls: "more-me",
      label: t("l_more_me"),
      name: t("l_more_me_label"),
      min: 0,
      max: MORE_ME_MAX_DB,
      step: 1,
      value: settings.master.more_me_db ?? 0,
      reset: 0,
      show: (v) => (v === 0 ? t("l_off") : `−${v} dB`),
      speak: (v) => (v === 0 ? t("l_off") : t("l_more_me_speak", { db: v })),
      set: (v) => {
        settings.master.more_me_db = v;
        onChange();
      },
    }, LOCKABLE),
  );
  return { root, meter, clip };
}
