/**
 * What a running server must undo, in the order it was done: every part that
 * opens something (a socket, a timer, the database) registers its closer right
 * after opening it. `closeAll()` runs them newest first — on shutdown, and on
 * a start that fails half-way, so a failed start leaves nothing open.
 */
import type { Logger } from "./log.ts";

export type Closer = () => void | Promise<void>;

export class Closers {
  private readonly stack: { name: string; close: Closer }[] = [];
  private closing: Promise<void> | null = null;

  constructor(private readonly log: Logger) {}

  /** Registers `close` for the part just opened; `name` appears in the log if it fails. */
  add(name: string, close: Closer): void {
    if (this.closing) throw new Error(`cannot add closer "${name}": already closing`);
    this.stack.push({ name, close });
  }

  /** The parts registered so far, oldest first (for the log and tests). */
  get names(): string[] {
    return this.stack.map((c) => c.name);
  }

  /**
   * Runs every closer once, newest first. A closer that throws is logged and
   * the others still run. Calling again returns the same promise.
   */
  closeAll(): Promise<void> {
    this.closing ??= this.run();
    return this.closing;
  }

  private async run(): Promise<void> {
    while (this.stack.length > 0) {
      const { name, close } = this.stack.pop()!;
      try {
        await close();
      } catch (e) {
        this.log.error("closing failed", { part: name, error: e as Error });
      }
    }
  }
}
