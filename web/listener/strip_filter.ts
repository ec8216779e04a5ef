/// <reference lib="dom" />
/**
 * Finding a channel among 32 with one thumb: a filter above the strips (by
 * name or number: "vox", "12") and a compact view (strips one line high:
 * name, mute, level). Both are the phone's own view, kept with the page's
 * preferences; they hide strips, they never change what is received or heard.
 */

export interface StripFilterDeps {
  /** The strips now: their root elements by channel id, with the channel's name. */
  strips(): Iterable<{ id: number; name: string; root: HTMLElement }>;
  compact(): boolean;
  setCompact(on: boolean): void;
}

import { t } from "../i18n/i18n.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Whether a channel matches the filter text (its name, or its number as typed). */
export function matchesFilter(id: number, name: string, text: string): boolean {
  const q = text.trim().toLowerCase();
  if (q === "") return true;
  if (/^\d+$/.test(q)) return String(id).startsWith(q) || name.toLowerCase().includes(q);
  return name.toLowerCase().includes(q);
}

export class StripFilter {
  constructor(private readonly d: StripFilterDeps) {}

  bind(): void {
    const input = $<HTMLInputElement>("strip-filter");
    input.addEventListener("input", () => this.apply());
    const compact = $<HTMLButtonElement>("strip-compact");
    compact.addEventListener("click", () => {
      this.d.setCompact(!this.d.compact());
      this.apply();
    });
    this.apply();
  }

  /** Shows the strips that match, in the chosen density (call after the strips are redrawn). */
  apply(): void {
    const text = $<HTMLInputElement>("strip-filter").value;
    let shown = 0;
    let total = 0;
    for (const s of this.d.strips()) {
      total++;
      const on = matchesFilter(s.id, s.name, text);
      s.root.hidden = !on;
      if (on) shown++;
    }
    const compact = this.d.compact();
    $("strips").classList.toggle("compact", compact);
    $("strip-compact").setAttribute("aria-pressed", String(compact));
    $("strip-count").textContent = text.trim() === "" ? "" : t("l_filter_count", { shown, total });
  }
}
