/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Audio that survives the pocket: the phone locks, the musician switches
 * apps, a call comes in, headphones are plugged or pulled, the Wi-Fi drops
 * for seconds. The musician started listening and did not pause, so the page
 * brings the audio back by itself, with the mix as it was:
 *
 *   AudioContext "suspended" / "interrupted" (iOS: a call, Siri)
 *        → resume at once, and again on visibilitychange, focus, pageshow and
 *          every RESUME_RETRY_MS while it is not running (a browser may refuse
 *          until the page is visible again);
 *   the browser goes online, the page becomes visible again
 *        → the connection tries now instead of waiting out its back-off;
 *   an output device appears or goes (devicechange), or the audio clock stops
 *   while "running" (a route change that left the context stuck)
 *        → the output is rebuilt (a fresh AudioContext; the session stays);
 *   Screen Wake Lock (HTTPS, optional) is taken again when the page is shown.
 *
 * What it does is logged through `note` (the page's state log: the tests
 * read it). The musician's pause (Media Session) is respected: nothing
 * resumes until they press play.
 */

/** While the context is not running: how often to ask it to resume. */
export const RESUME_RETRY_MS = 1000;
/** The audio clock is checked this often; two checks without progress is a stuck output. */
export const CLOCK_CHECK_MS = 1000;
const STUCK_CHECKS = 2;

export interface KeepAliveDeps {
  /** The playout's context now (it changes when the output is rebuilt). */
  ctx(): AudioContext | null;
  /** The musician started listening and has not paused. */
  wanted(): boolean;
  /** The network may be back: reconnect now if waiting. */
  nudge(reason: string): void;
  /** Rebuild the audio output (a new context), keeping the session and the mix. */
  rebuildOutput(reason: string): void;
  /** The page was shown or hidden (the background route follows it). */
  visibility?(hidden: boolean): void;
  /** Keep the screen on (a setting); read each time the page is shown. */
  wakeLockWanted(): boolean;
  note(event: string): void;
}

type WakeLockSentinelLike = { release(): Promise<void>; released: boolean };
type NavigatorWithWakeLock = Navigator & {
  wakeLock?: { request(type: "screen"): Promise<WakeLockSentinelLike> };
};

export class AudioKeeper {
  private lastTime = NaN;
  private stuck = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private wakeLock: WakeLockSentinelLike | null = null;
  private watched: AudioContext | null = null;

  constructor(private readonly d: KeepAliveDeps) {}

  /** Called once the musician pressed Start. */
  start(): void {
    const again = (why: string) => () => this.comeBack(why);
    document.addEventListener("visibilitychange", () => {
      const hidden = document.visibilityState === "hidden";
      this.d.visibility?.(hidden);
      if (!hidden) this.comeBack("the page is shown again");
    });
    addEventListener("focus", again("the page has the focus again"));
    addEventListener("pageshow", again("the page is shown again"));
    addEventListener("online", () => {
      this.d.note("the network is back");
      this.d.nudge("the network is back");
      this.resume("the network is back");
    });
    navigator.mediaDevices?.addEventListener?.("devicechange", () => {
      if (!this.d.wanted()) return;
      this.d.note("the audio output changed");
      this.d.rebuildOutput("the audio output changed");
    });
    this.timer = setInterval(() => this.tick(), Math.min(RESUME_RETRY_MS, CLOCK_CHECK_MS));
    void this.syncWakeLock();
  }

  /** The playout's context was (re)built: watch its state. */
  watch(ctx: AudioContext): void {
    this.watched = ctx;
    this.lastTime = NaN;
    this.stuck = 0;
    ctx.addEventListener("statechange", () => {
      if (this.watched !== ctx) return;
      const state = ctx.state as string; // "interrupted" (iOS) is not in the DOM types
      if (state !== "running" && state !== "closed") {
        this.d.note(`audio ${state}`);
        this.resume(`audio ${state}`);
      }
    });
  }

  stop(): void {
    clearInterval(this.timer);
    void this.wakeLock?.release().catch(() => {});
    this.wakeLock = null;
  }

  /** The page came back (shown, focused): audio, network and wake lock. */
  private comeBack(why: string): void {
    if (!this.d.wanted()) return;
    this.resume(why);
    this.d.nudge(why);
    void this.syncWakeLock();
  }

  private resume(why: string): void {
    const ctx = this.d.ctx();
    if (!ctx || !this.d.wanted() || ctx.state === "running" || ctx.state === "closed") return;
    ctx.resume().then(
      () => ctx.state === "running" && this.d.note(`audio resumed (${why})`),
      () => {/* refused (no user activation yet): retried on the next tick or gesture */},
    );
  }

  private tick(): void {
    const ctx = this.d.ctx();
    if (!ctx || !this.d.wanted()) return;
    if (ctx.state !== "running") {
      this.lastTime = NaN;
      if (document.visibilityState === "visible") this.resume("retry");
      return;
    }
    // Running, but is the clock moving? (A stuck output route keeps "running".)
    const t = ctx.currentTime;
    if (t === this.lastTime) {
      if (++this.stuck >= STUCK_CHECKS) {
        this.stuck = 0;
        this.lastTime = NaN;
        this.d.note("the audio output stalled");
        this.d.rebuildOutput("the audio output stalled");
        return;
      }
    } else this.stuck = 0;
    this.lastTime = t;
  }

  /** Screen Wake Lock: held while wanted and visible (browsers drop it when hidden). */
  async syncWakeLock(): Promise<void> {
    const nav = navigator as NavigatorWithWakeLock;
    if (!nav.wakeLock) return;
    const want = this.d.wakeLockWanted() && this.d.wanted() &&
      document.visibilityState === "visible";
    if (want && (!this.wakeLock || this.wakeLock.released)) {
      try {
        this.wakeLock = await nav.wakeLock.request("screen");
        this.d.note("screen kept on");
      } catch { /* refused (battery saver): the screen may lock, the audio goes on */ }
    } else if (!want && this.wakeLock) {
      const lock = this.wakeLock;
      this.wakeLock = null;
      await lock.release().catch(() => {});
    }
  }
}
