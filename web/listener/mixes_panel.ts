/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Settings → "My mixes": save the mix under a name, load or delete a saved
 * one, export the mix as a file (to keep, or to move to another phone) and
 * import one. The mix logic is src/client/mixes.ts; this is its UI.
 */
import {
  applyMix,
  deletePreset,
  exportMix,
  importMix,
  loadPresets,
  MixFileError,
  type MixPreset,
  savePreset,
  snapshot,
} from "../../src/client/mixes.ts";
import type { ClientSettings, SettingsStorage } from "../../src/client/settings.ts";
import { language, type MessageKey, t } from "../i18n/i18n.ts";
import { localText } from "../i18n/dom.ts";

/** A mix file's faults (MixFileError codes) in words. */
const FILE_ERRORS: Record<MixFileError["code"], MessageKey> = {
  no_name: "l_mixerr_no_name",
  too_large: "l_mixerr_too_large",
  not_a_mix: "l_mixerr_not_a_mix",
  version: "l_mixerr_version",
  no_channels: "l_mixerr_no_channels",
  not_a_code: "l_mixerr_not_a_code",
  code_damaged: "l_mixerr_code_damaged",
};

/** A mix's fault (a file's or a shared code's) in the page's language. */
export function fileError(e: unknown): string {
  if (!(e instanceof MixFileError)) return (e as Error).message;
  return t(FILE_ERRORS[e.code], e.vars);
}

export interface MixesPanelDeps {
  settings(): ClientSettings;
  storage(): SettingsStorage | null;
  /** The box these presets belong to (its storage key). */
  server(): string;
  /** The settings changed underneath the strips: redraw them, remix, save. */
  applied(): void;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class MixesPanel {
  constructor(private readonly d: MixesPanelDeps) {}

  bind(): void {
    $("mix-save").addEventListener("click", () => this.save());
    $<HTMLInputElement>("mix-name").addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.save();
    });
    $("mix-export").addEventListener("click", () => this.export());
    const file = $<HTMLInputElement>("mix-import");
    file.addEventListener("change", async () => {
      const f = file.files?.[0];
      file.value = "";
      if (f) await this.import(await f.text(), f.name);
    });
    this.render();
  }

  /** The panel's status line (`text` is called again after a language switch). */
  private say(text: () => string, kind: "ok" | "error" = "ok"): void {
    const p = $("mix-status");
    localText(p, text);
    p.dataset.kind = kind;
  }

  private save(): void {
    const store = this.d.storage();
    const input = $<HTMLInputElement>("mix-name");
    if (!store) return this.say(() => t("l_mix_no_storage"), "error");
    try {
      savePreset(store, this.d.server(), snapshot(this.d.settings(), input.value, nowIso()));
      const name = input.value.trim();
      this.say(() => t("l_mix_saved", { name }));
      input.value = "";
      this.render();
    } catch (e) {
      this.say(() => fileError(e), "error");
    }
  }

  private load(p: MixPreset): void {
    const n = applyMix(this.d.settings(), p);
    this.d.applied();
    this.say(() => t("l_mix_loaded", { name: p.name, n }));
  }

  private remove(p: MixPreset): void {
    const store = this.d.storage();
    if (!store) return;
    deletePreset(store, this.d.server(), p.name);
    this.say(() => t("l_mix_deleted", { name: p.name }));
    this.render();
  }

  private export(): void {
    const name = $<HTMLInputElement>("mix-name").value.trim() || t("l_mix_default_name");
    const text = exportMix(snapshot(this.d.settings(), name, nowIso(), { images: true }));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = `m32-mix-${name.replace(/[^\p{L}\p{N}_-]+/gu, "-")}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    this.say(() => t("l_mix_exported", { name }));
  }

  /** Loads a mix from elsewhere (a file, a QR code) and keeps it among the saved mixes. */
  adopt(mix: MixPreset): void {
    this.load(mix);
    const store = this.d.storage();
    if (store) savePreset(store, this.d.server(), mix);
    this.render();
  }

  async import(text: string, fileName: string): Promise<void> {
    try {
      this.adopt(importMix(text, fileName.replace(/\.json$/i, "")));
    } catch (e) {
      this.say(() => t("l_mix_file_error", { file: fileName, error: fileError(e) }), "error");
    }
    await Promise.resolve();
  }

  render(): void {
    const store = this.d.storage();
    const list = $("mix-list");
    list.replaceChildren();
    for (const p of store ? loadPresets(store, this.d.server()) : []) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.className = "mix-name";
      name.textContent = p.name;
      const when = document.createElement("time");
      when.dateTime = p.saved_at;
      when.textContent = new Date(p.saved_at).toLocaleString(language(), {
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      });
      const load = button(
        t("l_mix_load"),
        t("l_mix_load_label", { name: p.name }),
        () => this.load(p),
      );
      const del = button(
        t("l_mix_delete"),
        t("l_mix_delete_label", { name: p.name }),
        () => this.remove(p),
      );
      li.append(name, when, load, del);
      list.append(li);
    }
  }
}

function button(text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function nowIso(): string {
  return new Date().toISOString();
}
