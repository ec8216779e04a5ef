/**
 * The load test's own server, in a child process so its CPU and memory are
 * measured apart from the clients': the real `startServer` with the test
 * signal and a fresh data directory. Prints one JSON line on stdout
 * ({"url","http_port","pid"}) once listening; server logs go to stderr.
 * SIGTERM closes it gracefully (clients get `server_shutdown`).
 *
 *   deno run -A src/loadtest/server_proc.ts --port 0 --hostname 0.0.0.0 \
 *     --data-dir DIR --max-clients 60 [--adaptation]
 */

import { parseArgs } from "node:util";
import { startServer } from "../server.ts";
import { logConfig } from "../util/log.ts";
import { installTimerProbe } from "./timer_probe.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "0" },
    hostname: { type: "string", default: "127.0.0.1" },
    "data-dir": { type: "string" },
    "max-clients": { type: "string", default: "20" },
    adaptation: { type: "boolean", default: false },
  },
});
logConfig.write = (line) => console.error(line);
// Before the server exists, so every timer it ever makes is counted.
const timers = installTimerProbe();
const dataDir = v["data-dir"] ?? await Deno.makeTempDir({ prefix: "m32-loadtest-srv-" });
const srv = await startServer({
  httpPort: Number(v.port),
  rtpPort: 0,
  hostname: v.hostname,
  dataDir,
  source: "test",
});
// Sample-rate adaptation (contract §7) off unless asked: a capacity test wants a fixed rate.
srv.ctx.store.patch({
  network: { max_clients: Number(v["max-clients"]) },
  adaptation: { enabled: v.adaptation },
});
console.log(JSON.stringify({ url: srv.url, http_port: srv.httpPort, pid: Deno.pid }));
// The probe's own interval is one of the live timers, the same in every sample.
setInterval(() => console.log(JSON.stringify({ timers: timers.live() })), 1000);
Deno.addSignalListener("SIGTERM", async () => {
  await srv.close("load test server stopping");
  Deno.exit(0);
});
