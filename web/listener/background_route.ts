/// <reference lib="dom" />
/**
 * Where the mix goes while the page is hidden, on a platform that stops a
 * page's Web Audio in the background unless a media element is playing
 * (iOS Safari): the mix bus is moved from the context's destination to a
 * MediaStreamAudioDestinationNode that an `<audio>` element plays. The
 * element path adds the media pipeline's buffering, so the mix goes back to
 * the destination as soon as the page is shown: the foreground keeps the
 * lowest latency.
 *
 *   visible:  mix bus ─▶ ctx.destination
 *   hidden:   mix bus ─▶ MediaStreamAudioDestinationNode ─▶ <audio> (playing)
 */

export type BackgroundMode = "auto" | "element" | "off";
export const BACKGROUND_MODES: readonly BackgroundMode[] = ["auto", "element", "off"];

/** Whether this browser needs the element to keep audio in the background (iOS/iPadOS Safari). */
export function needsElementInBackground(nav: Navigator = navigator): boolean {
  const ua = nav.userAgent;
  const ios = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && nav.maxTouchPoints > 1);
  return ios;
}

export class BackgroundRoute {
  private dest: MediaStreamAudioDestinationNode | null = null;
  private el: HTMLAudioElement | null = null;
  private hidden = false;

  constructor(private readonly ctx: AudioContext, private readonly bus: AudioNode) {}

  /** True while the mix plays through the media element. */
  get viaElement(): boolean {
    return this.hidden;
  }

  /** The element (created on first use), for the page's test hook. */
  get element(): HTMLAudioElement | null {
    return this.el;
  }

  set(hidden: boolean): void {
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    if (hidden) {
      if (!this.dest) {
        this.dest = this.ctx.createMediaStreamDestination();
        this.el = new Audio();
        this.el.srcObject = this.dest.stream;
      }
      this.bus.connect(this.dest);
      this.bus.disconnect(this.ctx.destination);
      void this.el!.play().catch(() => {/* refused: the context may still play */});
    } else {
      this.bus.connect(this.ctx.destination);
      if (this.dest) this.bus.disconnect(this.dest);
      this.el?.pause();
    }
  }

  close(): void {
    this.el?.pause();
    if (this.el) this.el.srcObject = null;
    this.el = null;
    this.dest = null;
  }
}
