/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The settings form (audio, network, jitter, rate adaptation, ALSA): each
 * field is named "section.key" after GET /api/admin/config; saving sends only
 * what changed (PATCH /api/admin/config).
 */
import type { Config, SaveAnswer } from "../../src/admin/api_types.ts";
import { patchChangesWire } from "../../src/config/wire.ts";
import { api } from "./api.ts";
import { confirmRestart } from "./confirm.ts";
import { $, $button, $form, flash, messageOf } from "./dom.ts";
import { savedText } from "./format.ts";
import { state } from "./state.ts";
import { t } from "../i18n/i18n.ts";

type SettingsInput = HTMLInputElement | HTMLSelectElement;
type Value = string | number | boolean;
export type ConfigPatchBody = Record<string, Record<string, Value>>;

function settingsInputs(): SettingsInput[] {
  return [...$form("settings-form").querySelectorAll<SettingsInput>("input[name], select[name]")]
    .filter((el) => el.name.includes("."));
}

function readInput(el: SettingsInput): Value {
  if (el.dataset.type === "boolean") return (el as HTMLInputElement).checked;
  if (el.dataset.type === "number") return el.value.trim() === "" ? NaN : Number(el.value);
  return el.value;
}

function savedValue(name: string): unknown {
  const [section, key] = name.split(".");
  const sec: unknown = state.config?.[section as keyof Config];
  return typeof sec === "object" && sec !== null
    ? (sec as Record<string, unknown>)[key]
    : undefined;
}

export async function loadConfig(): Promise<void> {
  const config = await api<Config>("GET", "/config");
  state.config = config;
  state.lastVersion = config.config_version;
  for (const el of settingsInputs()) {
    const v = savedValue(el.name);
    if (el.dataset.type === "boolean") (el as HTMLInputElement).checked = Boolean(v);
    else el.value = String(v);
    el.classList.remove("invalid");
  }
  settingsChanged();
}

/** The edited values that differ from the saved ones, by section. */
export function settingsPatch(): ConfigPatchBody {
  const patch: ConfigPatchBody = {};
  for (const el of settingsInputs()) {
    const v = readInput(el);
    if (v === savedValue(el.name)) continue;
    const [section, key] = el.name.split(".");
    (patch[section] ??= {})[key] = v;
  }
  return patch;
}

export function settingsDirty(): boolean {
  return Object.keys(settingsPatch()).length > 0;
}

export function settingsChanged(): void {
  let bad = false;
  for (const el of settingsInputs()) {
    const invalid = el.dataset.type === "number" && !el.checkValidity();
    el.classList.toggle("invalid", invalid);
    bad ||= invalid;
  }
  const dirty = settingsDirty();
  $button("settings-save").disabled = !dirty || bad;
  $button("settings-revert").disabled = !dirty;
  if (dirty) flash($("settings-status"), () => t(bad ? "a_fix_fields" : "a_unsaved"), bad);
}

export async function onSaveSettings(ev: Event): Promise<void> {
  ev.preventDefault();
  const patch = settingsPatch();
  if (Object.keys(patch).length === 0) return;
  $button("settings-save").disabled = true;
  state.saving++;
  try {
    if (patchChangesWire(patch, state.overrides) && !(await confirmRestart("a_what_settings"))) {
      settingsChanged();
      flash($("settings-status"), () => t("a_not_saved"));
      return;
    }
    const r = await api<SaveAnswer>("PATCH", "/config", patch);
    state.lastVersion = r.config_version;
    await loadConfig();
    flash($("settings-status"), () => savedText(r));
  } catch (e) {
    flash($("settings-status"), () => messageOf(e), true);
    settingsChanged();
  } finally {
    state.saving--;
  }
}

export function wireSettings(): void {
  const form = $form("settings-form");
  form.addEventListener("input", settingsChanged);
  form.addEventListener("change", settingsChanged);
  form.addEventListener("submit", onSaveSettings);
  $button("settings-revert").addEventListener("click", () => {
    loadConfig();
    flash($("settings-status"), "");
  });
}
