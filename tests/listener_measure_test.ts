/**
 * Measurements for docs/listener-latency.md (run on demand, prints a table):
 *
 *   M32_LISTENER_MEASURE=1 deno test -A tests/listener_measure_test.ts
 *
 * 1. capture → playout schedule latency on loopback per transport and
 *    playout engine: the page's per-block figure (listener/playout.ts,
 *    listener/worklet.ts) and the network part (RTP capture time → receive,
 *    clock-synced). The server has HTTPS on: WebTransport and the AudioWorklet
 *    rows use the https:// page, the others plain http:// as phones do;
 * 2. server process CPU with N browser listeners vs none.
 */
import type { Page } from "playwright-core";
import {
  freePort,
  launchBrowser,
  startToneServer,
  status,
  waitStatus,
} from "./listener_helpers.ts";

const WARMUP_MS = 5000;
const WINDOW_MS = 10_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** This process's CPU time (user + system), ms, from /proc/self/stat. */
async function cpuMs(): Promise<number> {
  const f = (await Deno.readTextFile("/proc/self/stat")).split(") ")[1].split(" ");
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  return ticks * 10; // USER_HZ = 100
}

async function cpuPercentOver(ms: number): Promise<number> {
  const c0 = await cpuMs(), t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return ((await cpuMs()) - c0) / (performance.now() - t0) * 100;
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.click("#start");
  await waitStatus(page, (s) => s.state === "streaming" && s.packets_received > 200, "streaming");
}

Deno.test({
  name: "listener latency and CPU (measurement)",
  ignore: !Deno.env.get("M32_LISTENER_MEASURE"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const httpsPort = freePort();
    const { server } = await startToneServer({ channels: 8, httpsPort });
    const httpsUrl = `https://127.0.0.1:${httpsPort}`;
    const { ctx } = await launchBrowser(undefined, { https: true });
    const rows: string[] = [];
    const runs: [string, string, string][] = [
      ["webtransport", "worklet", httpsUrl],
      ["webtransport", "buffer", httpsUrl],
      ["datachannel", "worklet", httpsUrl],
      ["datachannel", "buffer", server.url],
      ["datachannel", "script", server.url],
      ["websocket", "buffer", server.url],
      ["websocket", "script", server.url],
    ];
    try {
      for (const [transport, playout, base] of runs) {
        {
          const page = await ctx.newPage();
          await open(page, `${base}/?transport=${transport}&playout=${playout}`);
          await new Promise((r) => setTimeout(r, WARMUP_MS));
          const s0 = await status(page);
          const net: number[] = [];
          const end = Date.now() + WINDOW_MS;
          while (Date.now() < end) {
            // deno-lint-ignore no-explicit-any
            net.push(await page.evaluate(() => (globalThis as any).__m32.networkLatency()));
            await new Promise((r) => setTimeout(r, 50));
          }
          // deno-lint-ignore no-explicit-any
          const lat: number[] = await page.evaluate(() => (globalThis as any).__m32.latencies());
          const s1 = await status(page);
          rows.push(
            `| ${s1.transport} | ${s1.playout} | ${pct(net, 50).toFixed(1)} / ${
              pct(net, 95).toFixed(1)
            } | ${pct(lat, 50).toFixed(1)} / ${pct(lat, 95).toFixed(1)} | ${
              s1.leadMs.toFixed(1)
            } | ${s1.jb.delayMs.toFixed(0)} | ${s1.underruns - s0.underruns} | ${
              s1.jb.skipped - s0.jb.skipped
            } / ${s1.jb.repeated - s0.jb.repeated} | ${
              ((s1.packet_loss_rate ?? 0) * 100).toFixed(2)
            } |`,
          );
          await page.close();
        }
      }
      console.log(
        "\n| transport | playout | network latency p50 / p95 (ms) | capture→playout schedule p50 / p95 (ms) | lead at end (ms) | jitter-buffer delay (ms) | underruns in 10 s | frames skipped / repeated in 10 s | loss % |",
      );
      console.log("|---|---|---|---|---|---|---|---|---|");
      for (const r of rows) console.log(r);

      // CPU: no listener (capture stopped), then 1 and 3 listeners per transport.
      const cpu: string[] = [];
      await new Promise((r) => setTimeout(r, 2000));
      cpu.push(`| none | 0 | ${(await cpuPercentOver(WINDOW_MS)).toFixed(1)} |`);
      for (const transport of ["webtransport", "datachannel", "websocket"]) {
        const pages: Page[] = [];
        const base = transport === "webtransport" ? httpsUrl : server.url;
        for (const n of [1, 3]) {
          while (pages.length < n) {
            const p = await ctx.newPage();
            await open(p, `${base}/?transport=${transport}`);
            pages.push(p);
          }
          await new Promise((r) => setTimeout(r, 2000));
          cpu.push(`| ${transport} | ${n} | ${(await cpuPercentOver(WINDOW_MS)).toFixed(1)} |`);
        }
        for (const p of pages) await p.close();
        await new Promise((r) => setTimeout(r, 1500));
      }
      console.log("\n| transport | browser listeners | server process CPU (% of one core) |");
      console.log("|---|---|---|");
      for (const r of cpu) console.log(r);
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});
