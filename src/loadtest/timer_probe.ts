/**
 * Counts the live timers of the process it is installed in (the load test's
 * server child): a soak must show that timers, like threads and file
 * descriptors, do not grow. Deno has no API for it, so the global
 * `setTimeout`/`setInterval`/`clear*` are wrapped: a timeout is live until it
 * fires or is cleared, an interval until it is cleared. Only for the load
 * test's own server process, never in the product.
 */

export interface TimerProbe {
  /** Timers live now (timeouts pending, intervals not cleared). */
  live(): number;
  /** Restores the original globals. */
  uninstall(): void;
}

type TimerFn = (...args: unknown[]) => unknown;
type SetTimer = (fn: TimerFn | string, ms?: number, ...args: unknown[]) => number;
type ClearTimer = (id?: number) => void;
/** The four globals as Deno's web API declares them (not Node's `Timeout` objects). */
interface TimerGlobals {
  setTimeout: SetTimer;
  setInterval: SetTimer;
  clearTimeout: ClearTimer;
  clearInterval: ClearTimer;
}

export function installTimerProbe(
  g: TimerGlobals = globalThis as unknown as TimerGlobals,
): TimerProbe {
  const live = new Set<number>();
  const { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci } = g;
  g.setTimeout = (fn, ms, ...args) => {
    const id: number = st(() => {
      live.delete(id);
      if (typeof fn === "function") fn(...args);
    }, ms);
    live.add(id);
    return id;
  };
  g.setInterval = (fn, ms, ...args) => {
    const id: number = si(() => {
      if (typeof fn === "function") fn(...args);
    }, ms);
    live.add(id);
    return id;
  };
  // Deno's timeouts and intervals share one id space: either clear removes either.
  g.clearTimeout = (id) => {
    if (id !== undefined) live.delete(id);
    ct(id);
  };
  g.clearInterval = (id) => {
    if (id !== undefined) live.delete(id);
    ci(id);
  };
  return {
    live: () => live.size,
    uninstall() {
      Object.assign(g, { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci });
    },
  };
}
