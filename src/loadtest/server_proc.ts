/**
 * The load test's own server, in a child process so its CPU and memory are
 * measured apart from the clients': the real `startServer` with the test
 * signal and a fresh data directory. Prints one JSON line on stdout
 * ({"url","http_port","pid"}) once listening; server logs go to stderr.
 * SIGTERM closes it gracefully (clients get `server_shutdown`).
 *
 * `--https-port P` turns HTTPS on (and with it WebTransport, on UDP P);
 * `--mapped N` maps channels 1–N only. A load-test-only route reads the audio
 * path's figures (never part of a production run):
 *
 *   GET /loadtest/stats[?reset=1]   {"lateness": period lateness counts since the
 *       last reset (src/session/lateness.ts toJSON), "senders": per browser
 *       listener {kind, packets, dropped} (src/listener/channel_sender.ts),
 *       "relay_dropped": browser datagrams the audio worker dropped because the
 *       main thread fell a whole relay ring behind (src/plane/relay.ts)}
 *
 *   deno run -A src/loadtest/server_proc.ts --port 0 --hostname 0.0.0.0 \
 *     --data-dir DIR --max-clients 60 [--adaptation] [--https-port P] [--mapped N]
 */

import { parseArgs } from "node:util";
import { startServer } from "../server.ts";
import { logConfig } from "../util/log.ts";
import { installTimerProbe } from "./timer_probe.ts";
import type { AppExtension } from "../http/app.ts";
import type { ChannelSenderStats } from "../listener/channel_sender.ts";
import { RemoteEngine } from "../plane/remote_engine.ts";

/** The load test's view of the audio path (see the header). */
const statsRoute: AppExtension = (app, ctx) => {
  app.get("/loadtest/stats", (c) => {
    const lateness = ctx.engine.lateness.toJSON();
    if (c.req.query("reset")) ctx.engine.lateness.reset();
    const senders = ctx.sessions.list().flatMap((s) => {
      const st = s.sender?.stats as Partial<ChannelSenderStats> | undefined;
      return st && s.kind !== "udp"
        ? [{ kind: s.kind, packets: st.packets ?? 0, dropped: st.dropped ?? 0 }]
        : [];
    });
    const relayDropped = ctx.engine instanceof RemoteEngine ? ctx.engine.relayDropped() : 0;
    return c.json({ lateness, senders, relay_dropped: relayDropped });
  });
};

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "0" },
    hostname: { type: "string", default: "127.0.0.1" },
    "data-dir": { type: "string" },
    "max-clients": { type: "string", default: "20" },
    adaptation: { type: "boolean", default: false },
    "https-port": { type: "string" },
    mapped: { type: "string" },
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
  extensions: [statsRoute],
});
// Sample-rate adaptation (contract §7) off unless asked: a capacity test wants a fixed rate.
srv.ctx.store.patch({
  network: { max_clients: Number(v["max-clients"]) },
  adaptation: { enabled: v.adaptation },
});
if (v.mapped !== undefined) {
  const n = Number(v.mapped);
  srv.ctx.store.setChannels(
    srv.ctx.store.getChannels().map((c) => ({ ...c, enabled: c.id <= n, order: c.id })),
  );
}
let httpsPort: number | null = null;
if (v["https-port"] !== undefined) {
  srv.ctx.store.patch({ https: { enabled: true, port: Number(v["https-port"]) } });
  const st = await srv.ctx.https.apply();
  if (!st.listening) throw new Error(`HTTPS did not start: ${st.error}`);
  httpsPort = st.port;
}
console.log(
  JSON.stringify({ url: srv.url, http_port: srv.httpPort, https_port: httpsPort, pid: Deno.pid }),
);
// The probe's own interval is one of the live timers, the same in every sample.
setInterval(() => console.log(JSON.stringify({ timers: timers.live() })), 1000);
Deno.addSignalListener("SIGTERM", async () => {
  await srv.close("load test server stopping");
  Deno.exit(0);
});
