/** Starts src/loadtest/server_proc.ts as a child process and stops it (SIGTERM). */

export interface ServerHandle {
  url: string;
  httpPort: number;
  /** The HTTPS (and WebTransport) port when asked for, else null. */
  httpsPort: number | null;
  pid: number;
  /** The server's live timers as it last reported them (every second), or null before the first. */
  timers(): number | null;
  stop(): Promise<void>;
}

const PROC = new URL("./server_proc.ts", import.meta.url).pathname;

export async function spawnServer(opts: {
  port?: number;
  hostname?: string;
  dataDir: string;
  maxClients: number;
  /** Keep the server's sample-rate adaptation on (default off). */
  adaptation?: boolean;
  /** Turn HTTPS (and WebTransport) on at this port. */
  httpsPort?: number;
  /** Map channels 1–N only (default: the server's default mapping). */
  mapped?: number;
  /** Extra flags for the server's Deno (e.g. `--cpu-prof`). */
  denoFlags?: string[];
}): Promise<ServerHandle> {
  let timers: number | null = null;
  const { child, info } = await spawnJsonChild(
    [
      ...(opts.denoFlags ?? []),
      PROC,
      "--port",
      String(opts.port ?? 0),
      "--hostname",
      opts.hostname ?? "127.0.0.1",
      "--data-dir",
      opts.dataDir,
      "--max-clients",
      String(opts.maxClients),
      ...(opts.adaptation ? ["--adaptation"] : []),
      ...(opts.httpsPort !== undefined ? ["--https-port", String(opts.httpsPort)] : []),
      ...(opts.mapped !== undefined ? ["--mapped", String(opts.mapped)] : []),
    ],
    "load test server",
    (probe) => {
      if (typeof probe.timers === "number") timers = probe.timers;
    },
  );
  const url = opts.hostname && opts.hostname !== "0.0.0.0" && opts.hostname !== "127.0.0.1"
    ? info.url
    : `http://127.0.0.1:${info.http_port}`;
  return {
    url,
    httpPort: info.http_port,
    httpsPort: info.https_port ?? null,
    pid: child.pid,
    timers: () => timers,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}

/**
 * Runs `deno run -A --unstable-net <args>` with stdout piped, waits for its first line (a JSON
 * object: where it listens) and returns it; every later JSON line goes to `onLine`, and stdout is
 * drained until the child exits (it must never block on a full pipe).
 */
export async function spawnJsonChild(
  args: string[],
  what: string,
  onLine: (line: Record<string, unknown>) => void = () => {},
  // deno-lint-ignore no-explicit-any
): Promise<{ child: Deno.ChildProcess; info: any }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-net", ...args],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${what} exited before it was listening`);
    text += value;
  }
  const info = JSON.parse(text.slice(0, text.indexOf("\n")));
  (async () => {
    let rest = text.slice(text.indexOf("\n") + 1);
    try {
      for (;;) {
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          try {
            onLine(JSON.parse(line));
          } catch { /* not a JSON line */ }
        }
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
      }
    } catch { /* closed */ }
  })();
  return { child, info };
}
