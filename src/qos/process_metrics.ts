/** The server's own CPU (percent of one core) and memory (RSS, MiB), sampled periodically. */
import process from "node:process";

export class ProcessMetrics {
  private lastCpuUs = 0;
  private lastWallMs = 0;
  cpuPercent = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** Total process CPU time (user + system), µs. */
  static cpuMicros(): number {
    const u = process.cpuUsage();
    return u.user + u.system;
  }

  static rssMiB(): number {
    return Deno.memoryUsage().rss / (1024 * 1024);
  }

  start(intervalMs = 2000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    const cpu = ProcessMetrics.cpuMicros();
    const wall = performance.now();
    if (this.lastWallMs > 0 && wall > this.lastWallMs) {
      this.cpuPercent = ((cpu - this.lastCpuUs) / 1000 / (wall - this.lastWallMs)) * 100;
    }
    this.lastCpuUs = cpu;
    this.lastWallMs = wall;
  }
}
