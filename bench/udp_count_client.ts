/**
 * Parent side of bench/udp_counter.ts: spawns the counting receiver as its
 * own Deno process (so receiving costs are not charged to the process being
 * measured) and asks it for snapshots of the datagrams each port received.
 */

const COUNTER_SCRIPT = new URL("./udp_counter.ts", import.meta.url).pathname;

export interface CounterSnapshot {
  /** Datagrams received so far, per port (in the order of `ports`). */
  packets: number[];
  /** Sum of `packets`. */
  total: number;
  /** Payload bytes received so far, all ports. */
  bytes: number;
}

export class UdpCounter {
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly lines: AsyncIterator<string>;
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly child: Deno.ChildProcess,
    lines: AsyncIterator<string>,
    readonly ports: number[],
  ) {
    this.writer = child.stdin.getWriter();
    this.lines = lines;
  }

  /** Starts a receiver bound to `count` fresh 127.0.0.1 ports. */
  static async start(count: number): Promise<UdpCounter> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--unstable-net", COUNTER_SCRIPT, String(count)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = readLines(child.stdout);
    const first = await lines.next();
    if (first.done) throw new Error("udp_counter exited before reporting its ports");
    const { ports } = JSON.parse(first.value) as { ports: number[] };
    if (ports.length !== count) {
      throw new Error(`udp_counter bound ${ports.length} ports, asked for ${count}`);
    }
    return new UdpCounter(child, lines, ports);
  }

  /** The process id of the receiver (to exclude or inspect it). */
  get pid(): number {
    return this.child.pid;
  }

  async snapshot(): Promise<CounterSnapshot> {
    await this.writer.write(this.encoder.encode("snap\n"));
    const line = await this.lines.next();
    if (line.done) throw new Error("udp_counter exited during a snapshot");
    const s = JSON.parse(line.value) as { packets: number[]; bytes: number };
    return { packets: s.packets, total: s.packets.reduce((a, b) => a + b, 0), bytes: s.bytes };
  }

  async close(): Promise<void> {
    await this.writer.close().catch(() => {});
    // Drain what is left so the child is never blocked on a full pipe.
    for (let r = await this.lines.next(); !r.done; r = await this.lines.next()) { /* discard */ }
    await this.child.status;
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered) yield buffered;
}
