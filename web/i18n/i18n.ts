/**
 * The pages' languages (issue #13 item 7): every user-visible string of the listener page and
 * the admin page lives in one catalogue per language (`en.ts`, `ko.ts`, the same keys). The
 * language is the browser's (`navigator.languages`) unless the user picked one on the page
 * (kept in localStorage); switching re-renders through `onLanguageChange` listeners.
 *
 *   t("l_mute_ch", { name: "Kick" })   → "Mute Kick" / "Kick 뮤트"
 *
 * `{name}` placeholders are replaced by the given values; a key missing from a catalogue falls
 * back to English (and the catalogue tests fail on it).
 */
import { EN, type MessageKey } from "./en.ts";
import { KO } from "./ko.ts";

export type { MessageKey };
export type Language = "en" | "ko";
export const LANGUAGES: readonly Language[] = ["en", "ko"];
/** Each language's name in itself, for the language switch. */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = { en: "English", ko: "한국어" };

export const CATALOGUES: Readonly<Record<Language, Readonly<Record<MessageKey, string>>>> = {
  en: EN,
  ko: KO,
};

const STORAGE_KEY = "m32.language";

/** The first of the browser's languages we speak, else English. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if ((LANGUAGES as readonly string[]).includes(base)) return base as Language;
  }
  return "en";
}

function storedLanguage(): Language | null {
  try {
    const v = globalThis.localStorage?.getItem(STORAGE_KEY);
    return v && (LANGUAGES as readonly string[]).includes(v) ? v as Language : null;
  } catch {
    return null;
  }
}

function browserLanguages(): readonly string[] {
  const nav = (globalThis as { navigator?: { languages?: readonly string[]; language?: string } })
    .navigator;
  return nav?.languages?.length ? nav.languages : nav?.language ? [nav.language] : [];
}

let current: Language = storedLanguage() ?? pickLanguage(browserLanguages());
const listeners = new Set<(lang: Language) => void>();

export function language(): Language {
  return current;
}

/** Switches the language (remembered on this device) and tells every listener. */
export function setLanguage(lang: Language): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  } catch { /* private mode: this page view only */ }
  if (lang === current) return;
  current = lang;
  const doc = (globalThis as { document?: { documentElement: { lang: string } } }).document;
  if (doc) doc.documentElement.lang = lang;
  for (const fn of listeners) fn(lang);
}

/** Calls `fn` after every language switch; returns the unsubscribe. */
export function onLanguageChange(fn: (lang: Language) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The string for `key` in the current (or given) language, `{var}`s filled in. */
export function t(
  key: MessageKey,
  vars?: Readonly<Record<string, string | number>>,
  lang: Language = current,
): string {
  const text = CATALOGUES[lang][key] ?? EN[key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => name in vars ? String(vars[name]) : m);
}
