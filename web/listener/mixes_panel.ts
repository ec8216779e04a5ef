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
  type MixPreset,
  savePreset,
  snapshot,
} from "../../src/client/mixes.ts";
import type { ClientSettings, SettingsStorage } from "../../src/client/settings.ts";

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

  private say(text: string, kind: "ok" | "error" = "ok"): void {
    const p = $("mix-status");
    p.textContent = text;
    p.dataset.kind = kind;
  }

  private save(): void {
    const store = this.d.storage();
    const input = $<HTMLInputElement>("mix-name");
    if (!store) return this.say("This browser does not keep data for this page.", "error");
    try {
      savePreset(store, this.d.server(), snapshot(this.d.settings(), input.value, nowIso()));
      this.say(`Saved “${input.value.trim()}”.`);
      input.value = "";
      this.render();
    } catch (e) {
      this.say((e as Error).message, "error");
    }
  }

  private load(p: MixPreset): void {
    const n = applyMix(this.d.settings(), p);
    this.d.applied();
    this.say(`Loaded “${p.name}” (${n} channels).`);
  }

  private remove(p: MixPreset): void {
    const store = this.d.storage();
    if (!store) return;
    deletePreset(store, this.d.server(), p.name);
    this.say(`Deleted “${p.name}”.`);
    this.render();
  }

  private export(): void {
    const name = $<HTMLInputElement>("mix-name").value.trim() || "My mix";
    const text = exportMix(snapshot(this.d.settings(), name, nowIso(), { images: true }));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = `m32-mix-${name.replace(/[^\p{L}\p{N}_-]+/gu, "-")}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    this.say(`Exported “${name}”.`);
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
      this.say(`${fileName}: ${(e as Error).message}`, "error");
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
      when.textContent = new Date(p.saved_at).toLocaleString([], {
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      });
      const load = button("Load", `Load mix ${p.name}`, () => this.load(p));
      const del = button("Delete", `Delete mix ${p.name}`, () => this.remove(p));
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
