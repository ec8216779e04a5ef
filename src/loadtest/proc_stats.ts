/**
 * CPU and memory of a process, and of the whole machine, from /proc (Linux).
 * CPU is in percent of one core (like `top`), so 2 busy cores read 200 %.
 */

/** Linux USER_HZ: /proc times are in 1/100 s on every mainstream architecture. */
export const CLOCK_TICKS_PER_S = 100;

/** utime + stime of `pid` in clock ticks, or null when it is gone or /proc is missing. */
export function procCpuTicks(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 2 (comm) may contain spaces: split after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[11]) + Number(rest[12]); // fields 14 and 15
  } catch {
    return null;
  }
}

/** Resident memory of `pid` in MiB, or null. */
export function procRssMiB(pid: number): number | null {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Anonymous resident memory of `pid` in MiB (RssAnon: heaps, JIT code, stacks), or null.
 * VmRSS also counts the mapped program file's pages, which come and go with the page
 * cache; a leak shows in RssAnon.
 */
export function procRssAnonMiB(pid: number): number | null {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^RssAnon:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Threads of `pid` (the `Threads:` line of /proc/PID/status), or null. */
export function procThreads(pid: number): number | null {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^Threads:\s+(\d+)/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Open file descriptors of `pid` (entries of /proc/PID/fd: sockets, files, eventfds…), or null. */
export function procOpenFds(pid: number): number | null {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of all cores (first line of /proc/stat), or null. */
export function systemTicks(): { busy: number; total: number } | null {
  try {
    const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
      .map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** CPU use between `start()` and `stop()`. */
export class CpuWindow {
  private t0 = 0;
  private procs = new Map<number, number | null>();
  private sys: { busy: number; total: number } | null = null;

  constructor(private readonly pids: number[]) {}

  start(): this {
    this.t0 = performance.now();
    for (const p of this.pids) this.procs.set(p, procCpuTicks(p));
    this.sys = systemTicks();
    return this;
  }

  /** Percent of one core per pid, and the machine's busy share (0–100 % of all cores). */
  stop(): { procs: Map<number, number | null>; systemPct: number | null } {
    const dt = (performance.now() - this.t0) / 1000;
    const out = new Map<number, number | null>();
    for (const p of this.pids) {
      const a = this.procs.get(p), b = procCpuTicks(p);
      out.set(
        p,
        a == null || b == null || dt <= 0 ? null : ((b - a) / CLOCK_TICKS_PER_S / dt) * 100,
      );
    }
    const s = systemTicks();
    const systemPct = this.sys && s && s.total > this.sys.total
      ? ((s.busy - this.sys.busy) / (s.total - this.sys.total)) * 100
      : null;
    return { procs: out, systemPct };
  }
}
