/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The channel table: which channels are sent, their names and their send
 * order (GET/PUT /api/admin/channels). Rows are kept in display order and
 * numbered 1–32 on save, so disabled channels keep their place.
 */
import type { ChannelConfig, SaveAnswer } from "../../src/admin/api_types.ts";
import { mappingSignature } from "../../src/config/wire.ts";
import { api } from "./api.ts";
import { enableChannelDrag } from "./channel_drag.ts";
import { confirmRestart } from "./confirm.ts";
import { $, $button, flash, h, messageOf } from "./dom.ts";
import { savedText } from "./format.ts";
import { state } from "./state.ts";
import { t } from "../i18n/i18n.ts";

const byOrder = (a: ChannelConfig, b: ChannelConfig) => a.order - b.order || a.id - b.id;
const orderOf = (index: number) => index + 1;

export async function loadChannels(): Promise<void> {
  state.channels = await api<ChannelConfig[]>("GET", "/channels");
  state.rows = state.channels.map((c) => ({ ...c })).sort(byOrder);
  renderChannels();
}

function savedById(): Map<number, ChannelConfig> {
  return new Map(state.channels.map((c) => [c.id, c]));
}

export function channelsDirty(): boolean {
  const saved = savedById();
  return state.rows.some((r, i) => {
    const c = saved.get(r.id)!;
    return c.name !== r.name.trim() || c.enabled !== r.enabled || orderOf(i) !== c.order;
  }) || !sameSendOrder();
}

/** Saved send order equals the edited one (positions among all rows). */
function sameSendOrder(): boolean {
  const saved = [...state.channels].sort(byOrder).map((c) => c.id).join(",");
  return saved === state.rows.map((r) => r.id).join(",");
}

function nameInput(r: ChannelConfig, saved: ChannelConfig): HTMLInputElement {
  const input = h("input", {
    type: "text",
    value: r.name,
    maxlength: "32",
    "aria-label": t("a_ch_name_label", { id: r.id }),
    "data-id": String(r.id),
  });
  input.addEventListener("input", () => {
    r.name = input.value;
    input.classList.toggle("invalid", r.name.trim() === "");
    input.closest("tr")?.classList.toggle("changed", saved.name !== r.name.trim());
    channelsChanged();
  });
  return input;
}

function moveButton(r: ChannelConfig, i: number, dir: "up" | "down"): HTMLButtonElement {
  const up = dir === "up";
  return h("button", {
    type: "button",
    class: "btn btn-icon",
    title: t(up ? "a_move_up" : "a_move_down"),
    "aria-label": t(up ? "a_move_ch_up" : "a_move_ch_down", { id: r.id }),
    "data-move": dir,
    "data-id": String(r.id),
    disabled: up ? i === 0 : i === state.rows.length - 1,
    onclick: () => move(i, up ? -1 : 1),
  }, up ? "▲" : "▼");
}

function channelRow(r: ChannelConfig, i: number, saved: ChannelConfig, pos: number) {
  const changed = saved.name !== r.name.trim() || saved.enabled !== r.enabled;
  const send = h("input", {
    type: "checkbox",
    checked: r.enabled,
    "aria-label": t("a_ch_send_label", { id: r.id }),
    "data-id": String(r.id),
  });
  send.addEventListener("change", () => {
    r.enabled = send.checked;
    renderChannels();
  });
  const grip = h(
    "button",
    {
      type: "button",
      class: "btn-grip",
      "data-drag": String(r.id),
      title: t("a_drag_title"),
      "aria-label": t("a_drag_label", { id: r.id }),
    },
    h("span", { class: "grip", "aria-hidden": "true" }),
    String(r.id).padStart(2, "0"),
  );
  return h(
    "tr",
    {
      class: [r.enabled ? "" : "off", changed ? "changed" : ""].join(" ").trim() || undefined,
      "data-row": String(r.id),
    },
    h("td", { class: "ch-id" }, grip),
    h("td", {}, h("label", { class: "ch-send" }, send)),
    h("td", {}, nameInput(r, saved)),
    h(
      "td",
      {},
      h(
        "div",
        { class: "ch-order" },
        h("span", { class: r.enabled ? "ch-pos" : "ch-pos off" }, r.enabled ? String(pos) : "—"),
        moveButton(r, i, "up"),
        moveButton(r, i, "down"),
      ),
    ),
  );
}

export function renderChannels(): void {
  const saved = savedById();
  let pos = 0;
  const rows = state.rows.map((r, i) => {
    if (r.enabled) pos++;
    return channelRow(r, i, saved.get(r.id)!, pos);
  });
  $("channels-body").replaceChildren(...rows);
  const sent = state.rows.filter((r) => r.enabled).length;
  $("channels-summary").textContent = t("a_ch_summary", { sent, total: state.rows.length });
  channelsChanged();
}

/** Moves the row at display index `from` to `to` (a drag, or the handle's arrow keys). */
function moveTo(from: number, to: number): void {
  const [row] = state.rows.splice(from, 1);
  state.rows.splice(to, 0, row);
  renderChannels();
}

function move(i: number, delta: number): void {
  const j = i + delta;
  if (j < 0 || j >= state.rows.length) return;
  [state.rows[i], state.rows[j]] = [state.rows[j], state.rows[i]];
  renderChannels();
  const body = $("channels-body");
  const btn = body.querySelector<HTMLButtonElement>(
    `button[data-id="${state.rows[j].id}"][data-move="${delta < 0 ? "up" : "down"}"]`,
  );
  (btn && !btn.disabled ? btn : body.querySelector<HTMLElement>(
    `input[data-id="${state.rows[j].id}"]`,
  ))?.focus();
}

function channelsChanged(): void {
  const dirty = channelsDirty();
  const bad = state.rows.some((r) => r.name.trim() === "");
  $button("channels-save").disabled = !dirty || bad;
  $button("channels-revert").disabled = !dirty;
  if (dirty) {
    flash($("channels-status"), () => t(bad ? "a_ch_need_name" : "a_unsaved"), bad);
  }
}

function setAll(enabled: boolean): void {
  for (const r of state.rows) r.enabled = enabled;
  renderChannels();
}

function sortById(): void {
  state.rows.sort((a, b) => a.id - b.id);
  renderChannels();
}

/** What PUT /api/admin/channels gets: all 32, by id, numbered in display order. */
export function channelsBody(): ChannelConfig[] {
  return state.rows.map((r, i) => ({
    id: r.id,
    name: r.name.trim(),
    enabled: r.enabled,
    order: orderOf(i),
  })).sort((a, b) => a.id - b.id);
}

async function onSaveChannels(): Promise<void> {
  const body = channelsBody();
  $button("channels-save").disabled = true;
  state.saving++;
  try {
    const restarts = mappingSignature(body) !== mappingSignature(state.channels);
    if (restarts && !(await confirmRestart("a_what_channels"))) {
      channelsChanged();
      flash($("channels-status"), () => t("a_not_saved"));
      return;
    }
    const r = await api<SaveAnswer>("PUT", "/channels", body);
    state.lastVersion = r.config_version;
    await loadChannels();
    flash($("channels-status"), () => savedText(r));
  } catch (e) {
    flash($("channels-status"), () => messageOf(e), true);
    channelsChanged();
  } finally {
    state.saving--;
  }
}

export function wireChannels(): void {
  $button("channels-save").addEventListener("click", onSaveChannels);
  $button("channels-revert").addEventListener("click", () => {
    loadChannels();
    flash($("channels-status"), "");
  });
  $button("ch-all").addEventListener("click", () => setAll(true));
  $button("ch-none").addEventListener("click", () => setAll(false));
  $button("ch-sort").addEventListener("click", sortById);
  enableChannelDrag($("channels-body"), { moveTo });
}
