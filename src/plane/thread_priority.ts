/**
 * The audio plane's thread asks the kernel for precedence over the control
 * plane: a nice value below the process's (setpriority(2) on its own thread
 * id: on Linux, nice is per thread). Threads it starts later (the test
 * signal's pacer, the ALSA reader) inherit it. On a machine whose cores are
 * busy (werift's DTLS, TLS handshakes, other programs) the scheduler then
 * wakes the audio thread first instead of giving it a turn among equals.
 *
 * Lowering a nice value needs CAP_SYS_NICE or an RLIMIT_NICE that allows it
 * (systemd: `LimitNICE=`); without them the call fails with EACCES/EPERM and
 * the plane runs at the normal priority — still on its own thread.
 */
import { LIBC_PATH } from "../../ffi/libc.ts";

/** The nice value the audio plane asks for (−20 highest … 19 lowest). */
export const AUDIO_NICE = -10;
const PRIO_PROCESS = 0;

export interface PriorityResult {
  nice: number | null;
  error?: string;
}

/** Sets the calling thread's nice value; says what it got. */
export function raiseThreadPriority(nice = AUDIO_NICE): PriorityResult {
  let lib;
  try {
    lib = Deno.dlopen(
      LIBC_PATH,
      {
        gettid: { parameters: [], result: "i32" },
        setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
        getpriority: { parameters: ["i32", "u32"], result: "i32" },
      } as const,
    );
  } catch (e) {
    return { nice: null, error: (e as Error).message };
  }
  try {
    const tid = lib.symbols.gettid();
    if (lib.symbols.setpriority(PRIO_PROCESS, tid, nice) !== 0) {
      return {
        nice: lib.symbols.getpriority(PRIO_PROCESS, tid),
        error: "not permitted (needs CAP_SYS_NICE or LimitNICE)",
      };
    }
    return { nice: lib.symbols.getpriority(PRIO_PROCESS, tid) };
  } finally {
    lib.close();
  }
}
