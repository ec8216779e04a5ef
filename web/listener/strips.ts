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
import type {
  ChannelSettings,
  ClientSettings,
  GroupSettings,
  LimitSettings,
} from "../../src/client/settings.ts";
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

/** The musician's own touches on a strip (./strip_editor.ts). */
export interface StripExtras {
  /** Opens the strip's edit sheet (name, colour, picture, order, link, group). */
  edit?: () => void;
  /** The pair's second channel, when this strip is a stereo-linked pair. */
  partner?: ChannelSettings;
}

const two = (id: number) => String(id).padStart(2, "0");

/**
 * The strip's colour and picture as the musician set them; its title (number,
 * picture, name) becomes the button that opens the edit sheet (no extra
 * button: the head has room for the name beside M, S and Me).
 */
function decorate(root: HTMLElement, head: HTMLElement, ch: ChannelSettings, x: StripExtras) {
  if (ch.color) {
    root.style.setProperty("--strip-color", ch.color);
    root.dataset.color = ch.color;
  }
  const num = head.querySelector(".ch-num")!;
  const name = head.querySelector(".ch-name")!;
  const parts: Node[] = [num];
  if (ch.image) {
    parts.push(el("img", { class: "ch-img", src: ch.image, alt: "", "aria-hidden": "true" }));
  }
  parts.push(name);
  if (x.edit) head.prepend(titleButton(t("strip_edit", { name: ch.name }), parts, x.edit));
  else head.prepend(...parts);
}

/** A strip's title as the button to its edit sheet (inert while locked). */
function titleButton(label: string, parts: Node[], onClick: () => void): HTMLButtonElement {
  const b = el("button", {
    type: "button",
    class: "strip-title edit",
    "aria-label": label,
    ...LOCKABLE,
  }, ...parts);
  b.addEventListener("click", onClick);
  return b;
}

/** A linked pair's width and balance (in place of the pan). */
function stereoFaders(ch: ChannelSettings, name: string, onChange: () => void): HTMLElement[] {
  const link = ch.link!;
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  return [
    fader({
      cls: "width",
      label: t("strip_width"),
      name: t("strip_width_of", { name }),
      min: 0,
      max: 1,
      step: PAN_STEP,
      value: link.width,
      reset: 1,
      show: (v) => (v === 0 ? t("strip_width_mono") : pct(v)),
      speak: (v) => (v === 0 ? t("strip_width_mono") : pct(v)),
      set: (v) => {
        link.width = v;
        onChange();
      },
    }, LOCKABLE),
    fader({
      cls: "balance",
      label: t("strip_balance"),
      name: t("strip_balance_of", { name }),
      min: -1,
      max: 1,
      step: PAN_STEP,
      value: link.balance,
      reset: 0,
      show: panLabel,
      speak: panText,
      set: (v) => {
        link.balance = v;
        onChange();
      },
    }, LOCKABLE),
  ];
}

export function channelStrip(
  ch: ChannelSettings,
  onChange: () => void,
  extras: StripExtras = {},
): StripView {
  const meter = el("div", { class: "meter-fill" });
  const name = ch.name;
  const pair = extras.partner !== undefined && ch.link !== undefined;
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
      el(
        "span",
        { class: "ch-num", "aria-hidden": "true" },
        pair ? `${two(ch.id)}/${two(extras.partner!.id)}` : two(ch.id),
      ),
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
    ...(pair ? stereoFaders(ch, name, onChange) : [fader({
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
    }, LOCKABLE)]),
    el(
      "details",
      { class: "eq" },
      el("summary", {}, t("l_eq")),
      eqRow("low", "l_eq_low", "l_eq_low_ch"),
      eqRow("mid", "l_eq_mid", "l_eq_mid_ch"),
      eqRow("high", "l_eq_high", "l_eq_high_ch"),
    ),
  );
  if (pair) root.classList.add("linked");
  decorate(root, root.querySelector(".strip-head")!, ch, extras);
  return { root, meter };
}

/**
 * A group's strip: its name and members, one mute for them all, and the group
 * fader (a VCA over the members' own faders).
 */
export function groupStrip(
  g: GroupSettings,
  members: string,
  onChange: () => void,
  edit: () => void,
): HTMLElement {
  const head = el(
    "div",
    { class: "strip-head" },
    titleButton(t("group_edit", { name: g.name }), [
      el("span", { class: "ch-num", "aria-hidden": "true" }, t("group_badge")),
      el(
        "span",
        { class: "ch-name", "aria-hidden": "true" },
        g.name,
        el("small", { class: "group-members" }, members),
      ),
    ], edit),
    toggle("mute", "M", t("group_mute", { name: g.name }), g.mute, (on) => {
      g.mute = on;
      onChange();
    }),
  );
  return el(
    "section",
    {
      class: "strip group",
      "data-group": String(g.id),
      role: "group",
      "aria-label": t("group_label", { name: g.name }),
    },
    head,
    fader({
      cls: "vol group-vol",
      label: t("group_level"),
      name: t("group_level_of", { name: g.name }),
      min: 0,
      max: VOLUME_MAX,
      step: VOLUME_STEP,
      value: g.volume,
      reset: 1,
      show: volumeLabel,
      speak: volumeText,
      set: (v) => {
        g.volume = v;
        onChange();
      },
    }, LOCKABLE),
  );
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
