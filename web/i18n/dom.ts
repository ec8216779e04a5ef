/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The catalogues in a page (./i18n.ts has the catalogues and `t`). The static
 * HTML names each string by its key, and the page writes it in the current
 * language at start and again after every switch:
 *
 *   <button data-i18n="l_start">Start listening</button>       textContent
 *   data-i18n-aria-label / data-i18n-title / data-i18n-placeholder   that attribute
 *   data-i18n-html      markup from the catalogue itself (<strong>, <em>; never user text)
 *
 * Text a page computes (a status, a count) goes through `localText`: written
 * now, and written again (the same function, the new language) after a switch.
 * `<html lang>` follows the language.
 */
import {
  type Language,
  language,
  LANGUAGE_NAMES,
  LANGUAGES,
  type MessageKey,
  onLanguageChange,
  setLanguage,
  t,
} from "./i18n.ts";

const ATTRS = ["aria-label", "title", "placeholder"] as const;

/** Elements whose text (or an attribute) a function writes, to write again after a switch. */
const live = new Map<Element, Map<string, () => string>>();

function write(el: Element, what: string, text: string): void {
  if (what === "text") el.textContent = text;
  else el.setAttribute(what, text);
}

/** Writes every `data-i18n*` string under `root` in the current language. */
export function translateStatic(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n as MessageKey);
  }
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n-html]")) {
    el.innerHTML = t(el.dataset.i18nHtml as MessageKey);
  }
  for (const a of ATTRS) {
    for (const el of root.querySelectorAll(`[data-i18n-${a}]`)) {
      el.setAttribute(a, t(el.getAttribute(`data-i18n-${a}`) as MessageKey));
    }
  }
}

/**
 * Sets `el`'s text (or attribute `what`) to `text()` now and after every
 * language switch; a later call for the same element and attribute replaces it.
 */
export function localText(el: Element, text: () => string, what = "text"): void {
  let m = live.get(el);
  if (!m) live.set(el, m = new Map());
  m.set(what, text);
  write(el, what, text());
}

function rewrite(): void {
  for (const [el, m] of live) {
    if (!el.isConnected) {
      live.delete(el);
      continue;
    }
    for (const [what, text] of m) write(el, what, text());
  }
}

let started = false;

/**
 * Puts the page in the current language (static strings, `<html lang>`) and
 * keeps it there: after a switch the static strings and every `localText`
 * are written again, before the page's own `onLanguageChange` listeners run.
 * Every `select` given becomes a language switch.
 */
export function startI18n(...switches: HTMLSelectElement[]): void {
  if (!started) {
    started = true;
    onLanguageChange(() => {
      document.documentElement.lang = language();
      translateStatic();
      rewrite();
    });
  }
  document.documentElement.lang = language();
  translateStatic();
  for (const s of switches) languageSwitch(s);
}

/** A `<select>` offering every language in its own name; choosing one switches the page. */
function languageSwitch(select: HTMLSelectElement): void {
  select.replaceChildren(
    ...LANGUAGES.map((l) => {
      const o = document.createElement("option");
      o.value = l;
      o.lang = l;
      o.textContent = LANGUAGE_NAMES[l];
      return o;
    }),
  );
  select.value = language();
  select.addEventListener("change", () => setLanguage(select.value as Language));
  onLanguageChange((l) => (select.value = l));
}
