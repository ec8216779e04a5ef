/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * DOM helpers of the admin page: typed element lookup, element and SVG
 * builders, and the status line every form writes to.
 */
import { localText } from "../i18n/dom.ts";
import { errorText } from "../i18n/errors.ts";
import { t } from "../i18n/i18n.ts";
import { HttpError } from "./api.ts";

/** The page's element with `id`, checked to be a `type` (a missing or wrong element is a bug). */
export function byId<T extends Element = HTMLElement>(
  id: string,
  type: abstract new () => T = HTMLElement as unknown as abstract new () => T,
): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return el;
}

export const $ = (id: string): HTMLElement => byId(id);
export const $input = (id: string): HTMLInputElement => byId(id, HTMLInputElement);
export const $button = (id: string): HTMLButtonElement => byId(id, HTMLButtonElement);
export const $form = (id: string): HTMLFormElement => byId(id, HTMLFormElement);

/** An attribute value; `on…` keys take a listener, non-string values set the property. */
export type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);
export type Child = Node | string | number | null | undefined;

/** Creates an element: h("td", {class: "num"}, "12"). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = String(v);
    else if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== "string") (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes. */
export function s(tag: string, attrs: Record<string, string | number> = {}): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * Writes a form's status line, as an error or as a plain note (a function is
 * called again after a language switch).
 */
export function flash(el: HTMLElement, text: string | (() => string), isError = false): void {
  localText(el, typeof text === "string" ? () => text : text);
  el.classList.toggle("error", isError);
  el.classList.toggle("muted", !isError);
}

/**
 * The message of anything thrown, in the page's language: a server error by
 * its code (its own English sentence for a code the catalogue does not know),
 * no answer at all as such.
 */
export function messageOf(e: unknown): string {
  if (e instanceof HttpError) {
    return e.code === "http_error"
      ? t("err_http", { status: e.status })
      : errorText(e.code, e.message);
  }
  if (e instanceof TypeError) return t("err_network"); // fetch: nothing answered
  return e instanceof Error ? e.message : String(e);
}
