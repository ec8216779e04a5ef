/**
 * The one contract for a period sink that throws, whatever the source: the
 * period is dropped and capture goes on; the first error is logged with its
 * stack, later ones are counted, with a summary line at most every
 * `SINK_ERROR_SUMMARY_MS` while they go on (house style §9). The count is in
 * /health (`sink_errors`) and on the admin page.
 */
import type { Logger } from "../util/log.ts";

/** A sink that keeps throwing is summarised in the log at most this often. */
export const SINK_ERROR_SUMMARY_MS = 10_000;

export class SinkErrors {
  /** Periods whose sink threw since start. */
  count = 0;
  private summarised = 0;
  private summaryMs = 0;

  constructor(private readonly log: Logger) {}

  /** Records one throw at `now` (epoch ms) by the sink fed from `source`. */
  failed(e: unknown, now: number, source: string): void {
    this.count++;
    const error = e instanceof Error ? e : String(e);
    if (this.count === 1) {
      this.log.error("period sink threw; the period is dropped, capture continues", {
        source,
        error,
        stack: e instanceof Error ? e.stack : undefined,
      });
    } else if (now - this.summaryMs >= SINK_ERROR_SUMMARY_MS) {
      this.log.error("period sink still throwing", {
        source,
        sink_errors: this.count,
        since_last_summary: this.count - this.summarised,
        error,
      });
    } else {
      return;
    }
    this.summaryMs = now;
    this.summarised = this.count;
  }
}
