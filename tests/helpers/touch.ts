/**
 * Real touch input for the browser tests: touch points dispatched through the
 * DevTools protocol (Input.dispatchTouchEvent), so the page sees what a
 * finger makes — touchstart/pointerdown, the browser's own gesture detection
 * and scrolling — not synthetic DOM events. Coordinates are CSS pixels in the
 * viewport. Needs a context with `hasTouch`.
 */
import type { CDPSession, Page } from "playwright-core";

/** Touch moves per swipe, and the pause between them (a finger's pace, not a timing check). */
const SWIPE_STEPS = 12;
const MOVE_PAUSE_MS = 16;

export interface Point {
  x: number;
  y: number;
}

export class Finger {
  private constructor(private readonly cdp: CDPSession) {}

  static async on(page: Page): Promise<Finger> {
    return new Finger(await page.context().newCDPSession(page));
  }

  private async send(type: "touchStart" | "touchMove" | "touchEnd", at?: Point): Promise<void> {
    await this.cdp.send("Input.dispatchTouchEvent", {
      type,
      touchPoints: at ? [{ x: at.x, y: at.y, radiusX: 4, radiusY: 4, force: 1, id: 1 }] : [],
    });
  }

  /** Down and up at one point. */
  async tap(at: Point): Promise<void> {
    await this.send("touchStart", at);
    await this.send("touchEnd");
  }

  /** Down at `from`, moved in even steps to `to`, up there. */
  async swipe(from: Point, to: Point, steps = SWIPE_STEPS): Promise<void> {
    await this.send("touchStart", from);
    for (let i = 1; i <= steps; i++) {
      await new Promise((r) => setTimeout(r, MOVE_PAUSE_MS));
      await this.send("touchMove", {
        x: from.x + ((to.x - from.x) * i) / steps,
        y: from.y + ((to.y - from.y) * i) / steps,
      });
    }
    await this.send("touchEnd");
  }

  async close(): Promise<void> {
    await this.cdp.detach();
  }
}
