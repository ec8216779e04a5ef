/**
 * The process-level guard of `serve`: an exception nobody caught (a throwing
 * timer or event callback: the `error` event) or a promise rejection nobody
 * handled (`unhandledrejection`) would make Deno exit 1 and end the gig for
 * every musician. Installed, each is logged as one structured line with a
 * running count (the first ten, then every thousandth, so a fault that repeats
 * every period cannot flood the journal) and the server keeps serving. Whether the process is really
 * stuck is systemd's watchdog's decision (src/system/sd_notify.ts: the
 * heartbeat comes from the event loop, so a wedged loop is still restarted).
 */
import type { Logger } from "../util/log.ts";

/** Each kind is logged for its first occurrences, then once per this many. */
const LOG_FIRST = 10;
const LOG_EVERY = 1000;

function shouldLog(count: number): boolean {
  return count <= LOG_FIRST || count % LOG_EVERY === 0;
}

export interface ProcessGuard {
  /** Uncaught exceptions kept from ending the process. */
  readonly errors: number;
  /** Unhandled rejections kept from ending the process. */
  readonly rejections: number;
  uninstall(): void;
}

/** Installs the guard on `globalThis`; `uninstall()` takes it off again. */
export function installProcessGuard(log: Logger): ProcessGuard {
  let errors = 0;
  let rejections = 0;
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    if (!shouldLog(++errors)) return;
    log.error("uncaught exception; still serving", {
      error: e.error instanceof Error ? e.error : String(e.error ?? e.message),
      at: where(e.error),
      count: errors,
    });
  };
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    if (!shouldLog(++rejections)) return;
    log.error("unhandled promise rejection; still serving", {
      error: e.reason instanceof Error ? e.reason : String(e.reason),
      at: where(e.reason),
      count: rejections,
    });
  };
  globalThis.addEventListener("error", onError);
  globalThis.addEventListener("unhandledrejection", onRejection);
  return {
    get errors() {
      return errors;
    },
    get rejections() {
      return rejections;
    },
    uninstall() {
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onRejection);
    },
  };
}

/** The first stack frame of an error ("file:line:col"), so the one line says where. */
function where(e: unknown): string | undefined {
  if (!(e instanceof Error) || !e.stack) return undefined;
  const frame = e.stack.split("\n").find((l) => l.trimStart().startsWith("at "));
  return frame?.trim().slice(3);
}
