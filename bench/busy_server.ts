/**
 * The server `bench/busy_bench.ts` measures, in a child process of its own:
 * the real `startServer` (test signal, sendmmsg) plus a bench-only extension
 * that is never part of a production run:
 *
 *   GET  /bench/lateness[?reset=1]     the engine's period lateness counts since the
 *                                      last reset (src/session/lateness.ts `toJSON()`)
 *   POST /bench/block?ms=30&every=200  from now on, block the main thread for
 *                                      `ms` every `every` ms (ms=0 stops)
 *
 * Prints one JSON line {"url"} on stdout once listening; logs go to stderr.
 *
 *   deno run -A bench/busy_server.ts [--plane main|worker]
 */
import { parseArgs } from "node:util";
import { startServer } from "../src/server.ts";
import type { AppExtension } from "../src/http/app.ts";
import { logConfig } from "../src/util/log.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: { plane: { type: "string", default: "main" } },
});

let blockTimer: ReturnType<typeof setInterval> | null = null;

/** Spins the calling thread for `ms` (what a slow handler, GC or TLS handshake does to it). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

const benchExtension: AppExtension = (app, ctx) => {
  app.get("/bench/lateness", (c) => {
    const counts = ctx.engine.lateness.toJSON();
    if (c.req.query("reset")) ctx.engine.lateness.reset();
    return c.json(counts);
  });
  app.post("/bench/block", (c) => {
    const ms = Number(c.req.query("ms") ?? 0);
    const every = Number(c.req.query("every") ?? 200);
    if (blockTimer !== null) clearInterval(blockTimer);
    blockTimer = ms > 0 ? setInterval(() => spin(ms), every) : null;
    return c.json({ ms, every });
  });
};

logConfig.write = (line) => console.error(line);
const dataDir = await Deno.makeTempDir({ prefix: "m32-busy-srv-" });
const plane = v.plane === "worker" ? "worker" : "main";
const srv = await startServer({
  httpPort: 0,
  rtpPort: 0,
  hostname: "127.0.0.1",
  dataDir,
  source: "test",
  sender: "sendmmsg",
  heartbeatTimeoutS: 3600,
  adminPassword: "bench-busy-1",
  extensions: [benchExtension],
  audioPlane: plane,
});
// A fixed rate: the QoS reports must not step it (adaptation is another bench's subject).
srv.ctx.store.patch({ network: { max_clients: 60 }, adaptation: { enabled: false } });
console.log(JSON.stringify({ url: srv.url }));
Deno.addSignalListener("SIGTERM", async () => {
  if (blockTimer !== null) clearInterval(blockTimer);
  await srv.close("bench server stopping");
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  Deno.exit(0);
});
