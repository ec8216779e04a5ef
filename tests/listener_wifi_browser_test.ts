/**
 * On a crowded Wi-Fi the page tells the musician the network is the problem
 * (issue #13 item 3), not just "No audio": the listener page on a phone
 * viewport, its WebSocket through a TCP relay with the `crowded` profile
 * (src/net/tcp_delay_relay.ts; spikes 30 a minute instead of 1, so a short run
 * has several), in English and in Korean.
 */
import assert from "node:assert/strict";
import { TcpDelayRelay } from "../src/net/tcp_delay_relay.ts";
import { WifiImpairment } from "../src/net/wifi_impairment.ts";
import { WIFI_PROFILES } from "../src/net/wifi_profile.ts";
import { CATALOGUES } from "../web/i18n/i18n.ts";
import {
  launchBrowser,
  openLive,
  PHONE,
  startToneServer,
  waitStatus,
  watchErrors,
} from "./listener_helpers.ts";

Deno.test({
  name: "listener behind a crowded Wi-Fi says the Wi-Fi is unstable (English and Korean)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 4 });
    const { ctx } = await launchBrowser(PHONE);
    const profile = structuredClone(WIFI_PROFILES["crowded"]);
    profile.spikes!.per_min = 30;
    const relays: TcpDelayRelay[] = [];
    try {
      const runs = (["en", "ko"] as const).map(async (lang, i) => {
        const relay = new TcpDelayRelay({
          target: { hostname: "127.0.0.1", port: server.httpPort },
          model: new WifiImpairment(profile, 13 + i),
        });
        relays.push(relay);
        const page = await ctx.newPage();
        const errors = watchErrors(page);
        await page.addInitScript((l) => localStorage.setItem("m32.language", l), lang);
        await openLive(page, `http://127.0.0.1:${relay.port}/?transport=websocket`);
        const s = await waitStatus(
          page,
          (s) => s.network?.state === "unstable",
          `${lang}: the Wi-Fi warning`,
          45_000,
        );
        const cat = CATALOGUES[lang];
        // What the page measured: the relay's retransmission stalls, concealed by the jitter buffer.
        assert.ok(
          s.network.concealedRate >= 0.03 || s.network.lossRate >= 0.008,
          JSON.stringify(s.network),
        );
        const shown = await waitStatus(
          page,
          (s) => s.banner === cat.wifi_unstable || s.banner === cat.wifi_stalled,
          `${lang}: the banner`,
        );
        assert.notEqual(shown.badge, "No audio");
        assert.deepEqual(errors, []);
      });
      await Promise.all(runs);
    } finally {
      await ctx.close();
      for (const r of relays) await r.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
