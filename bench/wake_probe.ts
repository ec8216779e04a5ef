/**
 * The machine's own wake-up lateness, beside the server's (a small
 * `cyclictest`): a thread with the audio plane's scheduling (SCHED_FIFO where
 * allowed, src/system/thread_priority.ts) sleeps to a deadline every packet
 * time with `Atomics.wait` and records how late it woke, in the same
 * histogram as the engine's period lateness. It does no work, so what it sees
 * is what the kernel and the hypervisor do to any thread of this machine at
 * that moment: host CPU steal, a vCPU descheduled, softirq storms. A server
 * period later than the probe's worst is the server's doing; one inside it is
 * the machine's.
 *
 * It also keeps the times (performance.timeOrigin-based epoch ms) of its late
 * wake-ups, so they can be lined up with the server's.
 */
import {
  LATENESS_BYTES,
  type LatenessCounts,
  LatenessHistogram,
  type LatenessSummary,
} from "../src/session/lateness.ts";

const STOP = 0;
const LATE_SLOTS = 256;

const PROBE_SOURCE = (priorityUrl: string) => `
import { raiseThreadPriority } from ${JSON.stringify(priorityUrl)};
import { LatenessHistogram } from ${
  JSON.stringify(new URL("../src/session/lateness.ts", import.meta.url).href)
};
const now = () => performance.timeOrigin + performance.now();
self.onmessage = (e) => {
  const { flagsBuf, histBuf, lateBuf, periodMs, lateOverMs } = e.data;
  const prio = raiseThreadPriority();
  self.postMessage({ policy: prio.policy });
  const flags = new Int32Array(flagsBuf);
  const hist = new LatenessHistogram(histBuf);
  const late = new Float64Array(lateBuf);
  let due = now() + periodMs;
  while (Atomics.load(flags, ${STOP}) === 0) {
    let left = due - now();
    while (left > 0) {
      Atomics.wait(flags, ${STOP}, 0, left);
      if (Atomics.load(flags, ${STOP}) !== 0) return;
      left = due - now();
    }
    const l = now() - due;
    hist.add(l);
    if (l > lateOverMs) {
      const i = late[0] % ${LATE_SLOTS};
      late[1 + i] = due;
      late[0]++;
    }
    due += periodMs;
    if (now() > due) due += Math.ceil((now() - due) / periodMs) * periodMs;
  }
};
`;

export interface WakeProbeResult extends LatenessSummary {
  /** Wake-ups later than `lateOverMs`. */
  over: number;
  /** Their deadlines (epoch ms), the last 256. */
  lateAt: number[];
  /** The scheduling the probe thread got (fifo, nice, normal). */
  policy: string;
}

export class WakeProbe {
  private readonly flags = new Int32Array(new SharedArrayBuffer(4));
  private readonly hist: LatenessHistogram;
  private readonly late = new Float64Array(new SharedArrayBuffer(8 * (1 + LATE_SLOTS)));
  private readonly worker: Worker;
  private policy = "?";

  private constructor(periodMs: number, private readonly lateOverMs: number) {
    const histBuf = new SharedArrayBuffer(LATENESS_BYTES);
    this.hist = new LatenessHistogram(histBuf);
    const code = PROBE_SOURCE(new URL("../src/system/thread_priority.ts", import.meta.url).href);
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    this.worker = new Worker(url, { type: "module", name: "wake-probe" });
    this.worker.onmessage = (e) => this.policy = e.data.policy;
    this.worker.postMessage({
      flagsBuf: this.flags.buffer,
      histBuf,
      lateBuf: this.late.buffer,
      periodMs,
      lateOverMs,
    });
  }

  static start(periodMs: number, lateOverMs: number): WakeProbe {
    return new WakeProbe(periodMs, lateOverMs);
  }

  /** From now on, count afresh. */
  reset(): void {
    this.hist.reset();
    this.late[0] = 0;
  }

  /** The histogram's counts since the last reset (to pool several runs). */
  counts(): LatenessCounts {
    return this.hist.toJSON();
  }

  result(): WakeProbeResult {
    const n = Math.min(this.late[0], LATE_SLOTS);
    return {
      ...this.hist.summary(),
      over: this.hist.countAbove(this.lateOverMs),
      lateAt: Array.from(this.late.subarray(1, 1 + n)).sort((a, b) => a - b),
      policy: this.policy,
    };
  }

  stop(): void {
    Atomics.store(this.flags, STOP, 1);
    Atomics.notify(this.flags, STOP);
    this.worker.terminate();
  }
}

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? 10);
  const p = WakeProbe.start(5, 5);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const r = p.result();
  p.stop();
  console.log(JSON.stringify({ ...r, lateAt: r.lateAt.length }));
}
