/**
 * The Wi-Fi bench's server, in a child process (its CPU apart from the
 * relays' and the reference client's): the real `startServer` in `tone` test
 * mode (channel id carries id × 100 Hz) with `--channels` channels, HTTPS on
 * `--https-port` (WebTransport on the same UDP port) and the WebTransport URL
 * pages are told naming `--wt-public-port` (the relay in front of it), packets
 * of `--ptime` ms (the config's `audio.ptime_ms`).
 * Prints one JSON line ({"url","http_port","https_port"}) once listening;
 * SIGTERM closes it.
 */
import { parseArgs } from "node:util";
import { startServer } from "../../src/server.ts";
import type { ChannelConfig } from "../../src/config/types.ts";
import { logConfig } from "../../src/util/log.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    "https-port": { type: "string" },
    "wt-public-port": { type: "string" },
    channels: { type: "string", default: "8" },
    ptime: { type: "string", default: "5" },
    "data-dir": { type: "string" },
  },
});
logConfig.write = (line) => console.error(line);
const dataDir = v["data-dir"] ?? await Deno.makeTempDir({ prefix: "m32-wifi-srv-" });
const httpsPort = Number(v["https-port"]);
const srv = await startServer({
  httpPort: 0,
  rtpPort: 0,
  hostname: "127.0.0.1",
  dataDir,
  source: "test",
  adminPassword: "wifi-bench-1",
  webtransportPublicPort: v["wt-public-port"] ? Number(v["wt-public-port"]) : undefined,
});
const store = srv.ctx.store;
const n = Number(v.channels);
// A fixed rate and no adaptation: the bench measures the network, not the server's reaction to it.
store.patch({
  audio: { test_mode: "tone", ptime_ms: Number(v.ptime) },
  adaptation: { enabled: false },
});
const chans: ChannelConfig[] = store.getChannels().map((c) => ({
  ...c,
  enabled: c.id <= n,
  order: c.id,
}));
store.setChannels(chans);
store.patch({ https: { enabled: true, port: httpsPort } });
const st = await srv.ctx.https.apply();
if (!st.listening) throw new Error(`HTTPS did not start: ${st.error}`);
console.log(JSON.stringify({ url: srv.url, http_port: srv.httpPort, https_port: httpsPort }));
Deno.addSignalListener("SIGTERM", async () => {
  await srv.close("wifi bench stopping");
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  Deno.exit(0);
});
