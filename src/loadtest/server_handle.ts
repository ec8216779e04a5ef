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
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-net",
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
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("load test server exited before it was listening");
    text += value;
  }
  const info = JSON.parse(text.slice(0, text.indexOf("\n")));
  let timers: number | null = null;
  // Keep draining stdout (the child must never block on a full pipe), keeping its timer counts.
  (async () => {
    let rest = text.slice(text.indexOf("\n") + 1);
    try {
      for (;;) {
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          try {
            const probe = JSON.parse(line);
            if (typeof probe.timers === "number") timers = probe.timers;
          } catch { /* not a probe line */ }
        }
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
      }
    } catch { /* closed */ }
  })();
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
