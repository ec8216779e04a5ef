/**
 * Stopping a client's stream across threads without a packet after the stop.
 *
 * The control plane ends a session at once (the WebSocket closes, the
 * `client session ended` line reports what was sent), but the worker only
 * reads the `remove` message between periods: a period already running, or
 * the next one, would send that client one more packet, after the session's
 * end and past the count the log reported (seen in CI: 203 packets received,
 * 202 reported).
 *
 * One Int32 per client slot in shared memory, a small state machine:
 *
 *   main: addClient       any     → PENDING   (the worker opens it with the `add`)
 *   worker: `add`         PENDING → OPEN      (fails if main already stopped it)
 *   worker: period start  OPEN    → BUSY      (fails: the client sits this period out)
 *   worker: period end    BUSY    → OPEN,  or STOPPING → STOPPED + notify
 *   main: stop            OPEN | PENDING → STOPPED;  BUSY → STOPPING, then waits
 *                         (Atomics.wait) until the worker's period end says STOPPED
 *
 * So once `stop` returns, the worker sends that client nothing more, and the
 * counters it wrote before releasing the period are final. A slot reused by
 * the next client starts PENDING: the previous client, still in the worker's
 * engine until its `remove` is read, can no longer pass the gate.
 */

export const GATE_STOPPED = 0;
export const GATE_PENDING = 1;
export const GATE_OPEN = 2;
export const GATE_BUSY = 3;
export const GATE_STOPPING = 4;

/** Longest the control plane waits for a period to finish (a period takes well under 5 ms). */
export const GATE_STOP_TIMEOUT_MS = 250;

export function gateBytes(slots: number): number {
  return slots * Int32Array.BYTES_PER_ELEMENT;
}

/** The control plane's side. */
export class GateControl {
  private readonly gates: Int32Array;
  constructor(buffer: SharedArrayBuffer) {
    this.gates = new Int32Array(buffer);
  }

  /** A new client in `slot`: closed until the worker reads its `add`. */
  pending(slot: number): void {
    Atomics.store(this.gates, slot, GATE_PENDING);
  }

  /**
   * Closes `slot`; returns once the worker is not sending to it (true), or
   * false if the worker held it past `timeoutMs` (a stalled worker: the
   * caller goes on, and the worker still skips the slot from its next period).
   */
  stop(
    slot: number,
    timeoutMs = GATE_STOP_TIMEOUT_MS,
    now: () => number = () => performance.now(),
  ): boolean {
    const g = this.gates;
    for (;;) {
      const old = Atomics.compareExchange(g, slot, GATE_OPEN, GATE_STOPPED);
      if (old === GATE_OPEN || old === GATE_STOPPED) return true;
      if (old === GATE_PENDING) {
        if (Atomics.compareExchange(g, slot, GATE_PENDING, GATE_STOPPED) === GATE_PENDING) {
          return true;
        }
        continue;
      }
      if (old === GATE_BUSY) {
        if (Atomics.compareExchange(g, slot, GATE_BUSY, GATE_STOPPING) !== GATE_BUSY) continue;
      }
      // STOPPING: wait for the worker's period end.
      const deadline = now() + timeoutMs;
      while (Atomics.load(g, slot) === GATE_STOPPING) {
        const left = deadline - now();
        if (left <= 0) return false;
        Atomics.wait(g, slot, GATE_STOPPING, left);
      }
      return true;
    }
  }
}

/** The audio worker's side: per period, take every client's gate, then release them. */
export class GateWorker {
  private readonly gates: Int32Array;
  constructor(buffer: SharedArrayBuffer) {
    this.gates = new Int32Array(buffer);
  }

  /** The worker read the `add` for `slot`: it may send from now on (unless already stopped). */
  open(slot: number): void {
    Atomics.compareExchange(this.gates, slot, GATE_PENDING, GATE_OPEN);
  }

  /** Before a period: true if this period may send to `slot` (it is then held until `release`). */
  acquire(slot: number): boolean {
    return Atomics.compareExchange(this.gates, slot, GATE_OPEN, GATE_BUSY) === GATE_OPEN;
  }

  /** After the period's flush and counters: lets a waiting `stop` return. */
  release(slot: number): void {
    const g = this.gates;
    if (Atomics.compareExchange(g, slot, GATE_BUSY, GATE_OPEN) === GATE_BUSY) return;
    // The control plane asked to stop meanwhile.
    if (Atomics.compareExchange(g, slot, GATE_STOPPING, GATE_STOPPED) === GATE_STOPPING) {
      Atomics.notify(g, slot);
    }
  }
}
