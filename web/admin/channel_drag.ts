/// <reference lib="dom" />
/**
 * Reordering the channel table by dragging a row's handle, with a mouse, a
 * pen or a finger (pointer events, so phones work too), and by keyboard:
 * ArrowUp/ArrowDown on a focused handle moves its row one place.
 *
 * While dragging, the row itself moves in the DOM (under the pointer); on
 * release the table reports `from → to` and re-renders from its state. Moving
 * the row releases the handle's pointer capture, so the moves and the release
 * are listened for on the window.
 */

/** Within this distance of the window's top or bottom edge, a drag scrolls the page. */
const EDGE_PX = 48;
const SCROLL_STEP_PX = 16;

export interface DragHandlers {
  /** Move the row at display index `from` to index `to` (equal: nothing moved). */
  moveTo(from: number, to: number): void;
}

function rowsOf(body: HTMLElement): HTMLTableRowElement[] {
  return [...body.children].filter((e): e is HTMLTableRowElement =>
    e instanceof HTMLTableRowElement
  );
}

/** The handle a pointer or key event started on, with its row and the row's index. */
function handleOf(body: HTMLElement, ev: Event) {
  const target = ev.target instanceof Element ? ev.target.closest("[data-drag]") : null;
  const row = target?.closest("tr");
  if (!(target instanceof HTMLElement) || !row || row.parentElement !== body) return null;
  return { handle: target, row, index: rowsOf(body).indexOf(row) };
}

/** Wires dragging on the table body `body` (rows carry a `[data-drag]` handle). */
export function enableChannelDrag(body: HTMLElement, h: DragHandlers): void {
  body.addEventListener("pointerdown", (down) => {
    if (down.button !== 0) return;
    const start = handleOf(body, down);
    if (!start) return;
    down.preventDefault();
    const { handle, row, index: from } = start;
    handle.setPointerCapture(down.pointerId);
    row.classList.add("dragging");
    const onMove = (ev: PointerEvent) => {
      if (ev.pointerId !== down.pointerId) return;
      if (ev.clientY < EDGE_PX) globalThis.scrollBy(0, -SCROLL_STEP_PX);
      else if (ev.clientY > globalThis.innerHeight - EDGE_PX) {
        globalThis.scrollBy(0, SCROLL_STEP_PX);
      }
      const before = rowsOf(body).find((r) => {
        if (r === row) return false;
        const box = r.getBoundingClientRect();
        return ev.clientY < box.top + box.height / 2;
      });
      if (before) {
        if (row.nextElementSibling !== before) body.insertBefore(row, before);
      } else if (body.lastElementChild !== row) {
        body.append(row);
      }
    };
    const finish = (ev: PointerEvent) => {
      if (ev.pointerId !== down.pointerId) return;
      globalThis.removeEventListener("pointermove", onMove);
      globalThis.removeEventListener("pointerup", finish);
      globalThis.removeEventListener("pointercancel", finish);
      row.classList.remove("dragging");
      // A cancelled drag, or a table re-rendered under it (a reload), moves nothing.
      const at = rowsOf(body).indexOf(row);
      const to = ev.type === "pointercancel" || at < 0 ? from : at;
      h.moveTo(from, to);
      body.querySelector<HTMLElement>(`[data-drag="${handle.dataset.drag}"]`)?.focus();
    };
    globalThis.addEventListener("pointermove", onMove);
    globalThis.addEventListener("pointerup", finish);
    globalThis.addEventListener("pointercancel", finish);
  });
  body.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowUp" && ev.key !== "ArrowDown") return;
    const start = handleOf(body, ev);
    if (!start) return;
    ev.preventDefault();
    const to = start.index + (ev.key === "ArrowUp" ? -1 : 1);
    if (to < 0 || to >= rowsOf(body).length) return;
    h.moveTo(start.index, to);
    body.querySelector<HTMLElement>(`[data-drag="${start.handle.dataset.drag}"]`)?.focus();
  });
}
