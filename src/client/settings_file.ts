/**
 * Deno adapter: a `SettingsStorage` in one JSON file ({key: settings object}),
 * written to a temporary file and renamed so a crash never leaves half a file.
 */

import type { SettingsStorage } from "./settings.ts";

export class FileSettingsStorage implements SettingsStorage {
  constructor(readonly path: string) {}

  private readAll(): Record<string, unknown> {
    try {
      const v = JSON.parse(Deno.readTextFileSync(this.path));
      return typeof v === "object" && v !== null && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  }

  getItem(key: string): string | null {
    const all = this.readAll();
    return key in all ? JSON.stringify(all[key]) : null;
  }

  setItem(key: string, value: string): void {
    const all = this.readAll();
    all[key] = JSON.parse(value);
    const tmp = `${this.path}.tmp-${Deno.pid}`;
    Deno.writeTextFileSync(tmp, JSON.stringify(all, null, 2) + "\n");
    Deno.renameSync(tmp, this.path);
  }
}
