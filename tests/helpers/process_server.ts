/**
 * Runs the real server as a child process (`deno run -A main.ts serve …`, or a
 * bundle) with a NOTIFY_SOCKET of our own, the way systemd starts it: tests see
 * every sd_notify datagram and learn the HTTP port from READY's STATUS line.
 */

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

export interface Notification {
  fields: Record<string, string>;
  at: number;
}

export interface ServerProcess {
  child: Deno.ChildProcess;
  dir: string;
  notifications: Notification[];
  /** Resolves with READY's fields (and the HTTP port) or rejects if the process ends first. */
  ready: Promise<{ httpPort: number; rtpPort: number; fields: Record<string, string> }>;
  output(): string;
  waitFor(
    pred: (n: Notification) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Notification>;
  /** Waits for the exit; returns the exit code. */
  exited(): Promise<number>;
  cleanup(): Promise<void>;
}

export function parseNotification(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface SpawnOptions {
  /** Arguments after the program (default: main.ts from the source tree). */
  program?: string[];
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  dir?: string;
  /** A command the server runs under, e.g. ["ip", "netns", "exec", "ns1"]. */
  prefix?: string[];
}

export async function spawnServer(opts: SpawnOptions): Promise<ServerProcess> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "m32-proc-" });
  const socketPath = `${dir}/notify.sock`;
  const listener = Deno.listenDatagram({ transport: "unixpacket", path: socketPath });
  const prefix = opts.prefix ?? [];
  const child = new Deno.Command(prefix[0] ?? Deno.execPath(), {
    args: [
      ...(prefix.length ? [...prefix.slice(1), Deno.execPath()] : []),
      ...(opts.program ?? ["run", "--allow-all", "--unstable-net", `${ROOT}/main.ts`]),
      ...opts.args,
    ],
    cwd: opts.cwd ?? ROOT,
    env: { NOTIFY_SOCKET: socketPath, NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const notifications: Notification[] = [];
  let text = "";
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) text += dec.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status;
  let wake: () => void = () => {};
  const receiving = (async () => {
    try {
      for await (const [data] of listener) {
        notifications.push({ fields: parseNotification(dec.decode(data)), at: performance.now() });
        wake();
      }
    } catch {
      // listener closed
    }
  })();
  let ended = false;
  status.then(() => {
    ended = true;
    wake();
  });

  const waitFor = async (pred: (n: Notification) => boolean, what: string, timeoutMs = 15000) => {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const n = notifications.find(pred);
      if (n) return n;
      if (ended) {
        await pumps;
        throw new Error(`server exited before ${what}:\n${text}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${text}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };

  const ready = waitFor((n) => n.fields.READY === "1", "READY=1").then((n) => {
    const m = /http port (\d+), rtp port (\d+)/.exec(n.fields.STATUS ?? "");
    if (!m) throw new Error(`READY without ports in STATUS: ${JSON.stringify(n.fields)}`);
    return { httpPort: Number(m[1]), rtpPort: Number(m[2]), fields: n.fields };
  });
  ready.catch(() => {});

  return {
    child,
    dir,
    notifications,
    ready,
    output: () => text,
    waitFor,
    async exited() {
      const s = await status;
      await pumps;
      return s.code;
    },
    async cleanup() {
      if (!ended) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
      await status;
      await pumps;
      listener.close();
      await receiving;
      if (!opts.dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
