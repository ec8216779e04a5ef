/**
 * The audio plane's thread asks the kernel for precedence over the control
 * plane, as audio servers do (JACK, PipeWire through rtkit):
 *
 * 1. SCHED_FIFO at AUDIO_RT_PRIORITY (sched_setscheduler(2) on its own thread
 *    id): it runs as soon as its futex or socket wakes it, ahead of every
 *    ordinary thread (the main thread's HTTP, werift's DTLS and SCTP, TLS,
 *    other programs). Needs CAP_SYS_NICE or an RLIMIT_RTPRIO that allows it
 *    (systemd: `LimitRTPRIO=`, with `RestrictRealtime=no`). The kernel keeps
 *    5 % of every second for ordinary threads (sched_rt_runtime_us), and the
 *    unit's `LimitRTTIME=` ends a thread that would spin without blocking.
 * 2. Else a nice value below the process's (setpriority(2) on the thread id:
 *    on Linux, nice is per thread). Needs CAP_SYS_NICE or `LimitNICE=`.
 * 3. Else the normal priority — still on a thread of its own.
 *
 * Threads the audio thread starts later (the test signal's pacer, the ALSA
 * reader) inherit its policy and priority.
 */
import { LIBC_PATH } from "../../ffi/libc.ts";

/** The real-time priority asked for (1 lowest … 99): rtkit's default ceiling, below the kernel's own threads. */
export const AUDIO_RT_PRIORITY = 20;
/** The nice value asked for when real-time is refused (−20 highest … 19 lowest). */
export const AUDIO_NICE = -10;
const PRIO_PROCESS = 0;
const SCHED_FIFO = 1;

export interface PriorityResult {
  /** What the thread got: real-time FIFO, a lower nice value, or nothing more than normal. */
  policy: "fifo" | "nice" | "normal";
  /** The real-time priority (fifo) or the nice value (nice, normal); null if libc could not be loaded. */
  priority: number | null;
  /** Why the better policies were refused. */
  error?: string;
}

export interface PriorityRequest {
  /** Ask for SCHED_FIFO first (default true). */
  realtime?: boolean;
  rtPriority?: number;
  nice?: number;
}

/** Raises the calling thread's scheduling priority as far as it is allowed; says what it got. */
export function raiseThreadPriority(req: PriorityRequest = {}): PriorityResult {
  const { realtime = true, rtPriority = AUDIO_RT_PRIORITY, nice = AUDIO_NICE } = req;
  let lib;
  try {
    lib = Deno.dlopen(
      LIBC_PATH,
      {
        gettid: { parameters: [], result: "i32" },
        sched_setscheduler: { parameters: ["i32", "i32", "buffer"], result: "i32" },
        setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
        getpriority: { parameters: ["i32", "u32"], result: "i32" },
      } as const,
    );
  } catch (e) {
    return { policy: "normal", priority: null, error: (e as Error).message };
  }
  try {
    const tid = lib.symbols.gettid();
    const refused: string[] = [];
    if (realtime) {
      const param = new Int32Array([rtPriority]);
      if (lib.symbols.sched_setscheduler(tid, SCHED_FIFO, param) === 0) {
        return { policy: "fifo", priority: rtPriority };
      }
      refused.push("real-time not permitted (needs CAP_SYS_NICE or LimitRTPRIO)");
    }
    if (lib.symbols.setpriority(PRIO_PROCESS, tid, nice) === 0) {
      return {
        policy: "nice",
        priority: lib.symbols.getpriority(PRIO_PROCESS, tid),
        error: refused[0],
      };
    }
    refused.push("nice not permitted (needs CAP_SYS_NICE or LimitNICE)");
    return {
      policy: "normal",
      priority: lib.symbols.getpriority(PRIO_PROCESS, tid),
      error: refused.join("; "),
    };
  } finally {
    lib.close();
  }
}

/**
 * Names the calling thread as `ps -L`, `top -H` and /proc show it (Linux:
 * /proc/thread-self/comm, 15 bytes at most); false where that cannot be written.
 */
export function nameThread(name: string): boolean {
  try {
    Deno.writeTextFileSync("/proc/thread-self/comm", name.slice(0, 15));
    return true;
  } catch {
    return false;
  }
}
