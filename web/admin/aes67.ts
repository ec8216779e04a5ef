/// <reference lib="dom" />
/**
 * The AES67 output card: on/off, interface, addresses, packet time and the
 * rest of `aes67.output` (PATCH /api/admin/config — a change here never
 * ends a phone's session; turning the output on or off while the packet time
 * is not 1 ms changes the source's period, so the source reopens and the
 * phones hear a gap: the save asks first, ./confirm.ts), and what the box sends now
 * (GET /api/admin/aes67: state, streams, clock). Refreshed every 5 s.
 */
import type { Aes67View, Config } from "../../src/admin/api_types.ts";
import { api } from "./api.ts";
import { $, $button, $form, $input, byId, flash, h, messageOf } from "./dom.ts";
import { confirmRestart } from "./confirm.ts";
import { state } from "./state.ts";
import { t } from "../i18n/i18n.ts";

type Output = Config["aes67"]["output"];

let stored: Output | null = null;
/** The phones' packet time: the source runs 1 ms periods while the output is on (src/audio/source_factory.ts). */
let ptimeMs = 5;
let view: Aes67View | null = null;
let timer: ReturnType<typeof setInterval> | null = null;

const select = (id: string) => byId(id, HTMLSelectElement);

export async function loadAes67(): Promise<void> {
  const [cfg, v] = await Promise.all([
    api<Config>("GET", "/config"),
    api<Aes67View>("GET", "/aes67"),
  ]);
  stored = cfg.aes67.output;
  ptimeMs = cfg.audio.ptime_ms;
  view = v;
  fillForm(stored);
  renderAes67();
  aes67Changed();
  if (timer === null) timer = setInterval(refresh, 5000);
}

async function refresh(): Promise<void> {
  if ($("app-view").hidden) return;
  try {
    view = await api<Aes67View>("GET", "/aes67");
    renderAes67();
  } catch {
    // the live feed and the overview say when the server is gone
  }
}

function interfaceOptions(current: string): HTMLOptionElement[] {
  const v = view;
  const def = v?.default_interface ?? null;
  const names = (v?.interfaces ?? []).map((i) => i.name);
  if (current && !names.includes(current)) names.push(current);
  return [
    h(
      "option",
      { value: "" },
      def ? t("a_aes67_default_iface", { name: def }) : t("a_aes67_no_default"),
    ) as HTMLOptionElement,
    ...names.map((n) => {
      const info = v?.interfaces.find((i) => i.name === n);
      return h("option", { value: n }, info ? `${n} (${info.address})` : n) as HTMLOptionElement;
    }),
  ];
}

function fillForm(o: Output): void {
  $input("aes67-enabled").checked = o.enabled;
  select("aes67-interface").replaceChildren(...interfaceOptions(o.interface));
  select("aes67-interface").value = o.interface;
  $input("aes67-base").value = o.multicast_base;
  select("aes67-ptime").value = String(o.ptime_us);
  $input("aes67-cps").value = String(o.channels_per_stream);
  $input("aes67-ttl").value = String(o.ttl);
  $input("aes67-dscp").value = String(o.dscp);
  $input("aes67-name").value = o.name;
}

function edits(): Partial<Output> {
  const s = stored;
  if (!s) return {};
  const num = (id: string) => {
    const text = $input(id).value.trim();
    return text === "" ? NaN : Number(text);
  };
  const next: Output = {
    enabled: $input("aes67-enabled").checked,
    interface: select("aes67-interface").value,
    multicast_base: $input("aes67-base").value.trim(),
    ptime_us: Number(select("aes67-ptime").value),
    channels_per_stream: num("aes67-cps"),
    ttl: num("aes67-ttl"),
    dscp: num("aes67-dscp"),
    name: $input("aes67-name").value,
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (v !== s[k as keyof Output]) out[k] = v;
  }
  return out as Partial<Output>;
}

const FIELDS = ["aes67-base", "aes67-cps", "aes67-ttl", "aes67-dscp", "aes67-name"];

function aes67Changed(): void {
  let bad = false;
  for (const id of FIELDS) {
    const invalid = !$input(id).checkValidity();
    $input(id).classList.toggle("invalid", invalid);
    bad ||= invalid;
  }
  const dirty = Object.keys(edits()).length > 0;
  $button("aes67-save").disabled = !dirty || bad;
  $button("aes67-revert").disabled = !dirty;
  if (dirty) flash($("aes67-status"), () => t(bad ? "a_aes67_fix" : "a_not_applied"), bad);
}

export function renderAes67(): void {
  const v = view;
  if (!v) return;
  const pill = $("aes67-state");
  const o = v.output;
  if (o.state === "off") {
    pill.textContent = t("a_aes67_pill_off");
    pill.className = "pill pill-muted";
  } else if (o.state === "sending") {
    pill.textContent = t("a_aes67_pill_on", { n: o.streams.length });
    pill.className = "pill pill-ok";
  } else {
    pill.textContent = t("a_aes67_pill_error");
    pill.className = "pill pill-bad";
  }
  $("aes67-error").textContent = o.error;
  $("aes67-error").hidden = !o.error;
  const c = v.clock;
  $("aes67-clock").textContent = c.source === "ptp"
    ? t("a_aes67_clock_ptp", { gm: c.grandmaster ?? "?", domain: c.domain ?? 0 })
    : t("a_aes67_clock_system", { mac: c.refclk?.replace(/^localmac=/, "") ?? "—" });
  $("aes67-packets").textContent = o.enabled ? String(o.packets) : "—";
  $("aes67-streams").replaceChildren(
    ...(o.streams.length > 0
      ? o.streams.map((s) =>
        h(
          "tr",
          {},
          h("td", {}, s.name),
          h("td", {}, `${s.group}:${s.port}`),
          h("td", {}, s.channels.join(", ")),
        )
      )
      : [h("tr", {}, h("td", { colspan: 3, class: "muted" }, t("a_aes67_no_streams")))]),
  );
  if (stored && Object.keys(edits()).length === 0) {
    // Keep the interface list current (names with addresses) while nothing is being edited.
    select("aes67-interface").replaceChildren(...interfaceOptions(stored.interface));
    select("aes67-interface").value = stored.interface;
  }
}

async function onSave(ev: Event): Promise<void> {
  ev.preventDefault();
  const output = edits();
  if (Object.keys(output).length === 0) return;
  $button("aes67-save").disabled = true;
  state.saving++;
  try {
    // On ↔ off changes the source's period unless the packet time is 1 ms: it reopens.
    const reopens = output.enabled !== undefined && output.enabled !== stored?.enabled &&
      ptimeMs !== 1;
    if (reopens && !(await confirmRestart("a_what_aes67_output", "a_confirm_source"))) {
      aes67Changed();
      flash($("aes67-status"), () => t("a_not_saved"));
      return;
    }
    const r = await api<{ config_version: number }>("PATCH", "/config", { aes67: { output } });
    state.lastVersion = r.config_version;
    await loadAes67();
    flash($("aes67-status"), () => t(reopens ? "a_aes67_saved_reopen" : "a_aes67_saved"));
  } catch (e) {
    flash($("aes67-status"), () => messageOf(e), true);
    aes67Changed();
  } finally {
    state.saving--;
  }
}

export function wireAes67(): void {
  const form = $form("aes67-form");
  form.addEventListener("input", aes67Changed);
  form.addEventListener("change", aes67Changed);
  form.addEventListener("submit", onSave);
  $button("aes67-revert").addEventListener("click", () => {
    if (stored) fillForm(stored);
    aes67Changed();
    flash($("aes67-status"), "");
  });
}
