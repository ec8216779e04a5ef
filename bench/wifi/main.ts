/**
 * `deno task wifitable`: the listener on Wi-Fi, per profile and transport
 * (issue #13 item 3; docs/loadtest/wifi/). For each profile, one tone server
 * (8 channels, Opus, HTTPS on) and four listeners at once, each behind its own
 * seeded impairment relay (src/net/, docs/wifi-relay.md):
 *
 *   websocket     Chromium page on plain http, scheduled-buffer playout; the
 *                 page is loaded through the TCP relay (the WebSocket follows)
 *   datachannel   Chromium page on plain http, scheduled-buffer playout; the
 *                 server's SDP answer is rewritten on its way to the page so
 *                 the only ICE candidate is the UDP relay (./sdp.ts)
 *   webtransport  Chromium page on https, AudioWorklet playout; the server
 *                 names the relay's UDP port in its WebTransport URL
 *                 (ServerOptions.webtransportPublicPort)
 *   udp           the reference client (Opus, libopus), RTP to the relay
 *
 * After a warm-up, every listener's playout latency samples and jitter-buffer
 * gap events (timed) are collected for `--minutes`, and each relay's spike
 * log and drop times; src/loadtest/wifi_figures.ts turns them into the table.
 *
 *   deno task wifitable [--profiles clean,stage-ap,crowded] [--minutes 10]
 *     [--warmup 20] [--seed 1] [--transports websocket,datachannel,webtransport,udp]
 *     [--out docs/loadtest/wifi] [--label NAME]
 *
 * Writes <out>/<label>.json (raw figures) and prints the table (markdown);
 * `--render FILE.json…` prints the table of runs already written.
 */
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { launchChromium } from "../../tests/helpers/browser.ts";
import { UdpImpairmentRelay } from "../../src/net/impairment_relay.ts";
import { TCP_RTO_MIN_MS } from "../../src/net/in_order_delay.ts";
import type { LatenessSummary } from "../../src/net/lateness.ts";
import { WIFI_PROFILES, type WifiProfileName } from "../../src/net/wifi_profile.ts";
import { ReferenceClient } from "../../src/client/session.ts";
import { openUdpSource } from "../../src/client/udp_source.ts";
import { libopusDecoderFactory } from "../../src/client/opus_ffi.ts";
import { systemClock } from "../../src/util/clock.ts";
import { candidatesToRelay, withoutCandidates } from "./sdp.ts";
import { type ModelSpec, recordingModel } from "./recording_model.ts";
import {
  type HostedRelay,
  RELAY_NICE,
  RELAY_RT_PRIORITY,
  RelayHost,
  type RelayReport,
} from "./relay_host.ts";
import { spawnJsonChild } from "../../src/loadtest/server_handle.ts";
import {
  figures,
  type ListenerFigures,
  type ListenerRecord,
  per10Min,
} from "../../src/loadtest/wifi_figures.ts";

export type Transport = "websocket" | "datachannel" | "webtransport" | "udp";
const ALL: Transport[] = ["websocket", "datachannel", "webtransport", "udp"];
const PLAYOUT: Record<Transport, string> = {
  websocket: "buffer (http)",
  datachannel: "buffer (http)",
  webtransport: "worklet (https)",
  udp: "reference client",
};
const WARN_SAMPLE_S = 5;
const SEED_OFFSET: Record<Transport, number> = {
  websocket: 1,
  datachannel: 2,
  webtransport: 3,
  udp: 4,
};

interface Listener {
  transport: Transport;
  /** The relay's counters, its model's spikes and drops, its send lateness (on its thread). */
  relay: () => Promise<RelayReport | null>;
  retransmitMs?: number;
  record: ListenerRecord;
  /** Moves what the listener recorded since the last call into `record`. */
  drain(): Promise<void>;
  status(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

interface ServerChild {
  httpPort: number;
  stop(): Promise<void>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function spawnServer(
  httpsPort: number,
  wtPublicPort: number,
  ptimeMs: number,
): Promise<ServerChild> {
  const { child, info } = await spawnJsonChild([
    new URL("./server_proc.ts", import.meta.url).pathname,
    "--https-port",
    String(httpsPort),
    "--wt-public-port",
    String(wtPublicPort),
    "--ptime",
    String(ptimeMs),
  ], "wifi bench server");
  return {
    httpPort: info.http_port,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

/** Calls the page's test hook `__m32[fn]()` (web/listener/listener.ts). */
// deno-lint-ignore no-explicit-any
type Hooked = any;
const hook = (page: Page, fn: string): Promise<Hooked> =>
  page.evaluate(
    (f) => (globalThis as unknown as { __m32: Record<string, () => unknown> }).__m32[f](),
    fn,
  );

async function pageListener(
  transport: Exclude<Transport, "udp">,
  page: Page,
  url: string,
  extra: {
    close: () => Promise<void>;
    retransmitMs?: number;
    relay: () => Promise<RelayReport | null>;
  },
): Promise<Listener> {
  await page.goto(url);
  await page.click("#start");
  const end = Date.now() + 30_000;
  for (;;) {
    const s = await hook(page, "status");
    if (s.state === "streaming" && s.packets_received > 200) break;
    if (Date.now() > end) throw new Error(`${transport}: not streaming (${JSON.stringify(s)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const record: ListenerRecord = { latency: [], gaps: [] };
  return {
    transport,
    retransmitMs: extra.retransmitMs,
    relay: extra.relay,
    record,
    drain: async () => {
      const d = await hook(page, "drainTrace");
      for (const v of d.latency) record.latency.push(v);
      for (const v of d.gaps) record.gaps.push(v);
    },
    status: () => hook(page, "status"),
    close: async () => {
      await page.close().catch(() => {});
      await extra.close();
    },
  };
}

async function udpListener(httpPort: number, host: RelayHost, m: ModelSpec): Promise<Listener> {
  const real = openUdpSource(0, "127.0.0.1");
  const relay = await host.udp(m, { hostname: "127.0.0.1", port: real.port }, "to-target", true);
  const client = new ReferenceClient({
    server: `http://127.0.0.1:${httpPort}`,
    udp: { port: relay.port, receive: (b) => real.receive(b), close: () => real.close() },
    channels: [1, 2, 3, 4, 5, 6, 7, 8],
    compression: "opus",
    opusDecoder: libopusDecoderFactory,
    log: () => {},
  }).start();
  const record: ListenerRecord = { latency: [], gaps: [] };
  const jb = client.playout;
  const read = jb.read.bind(jb);
  let lastSample = -Infinity;
  // capture → playout: the block just read ends at `now`; the newest packet plays bufferedMs later.
  jb.read = (out, frames, nowMs) => {
    read(out, frames, nowMs);
    const cap = client.receiver.newestCaptureEndMs;
    if (Number.isNaN(cap) || jb.bufferedMs <= 0 || nowMs - lastSample < 20) return;
    lastSample = nowMs;
    const lat = nowMs + jb.bufferedMs + client.clockSync.offsetMs - cap;
    if (lat > 0 && lat < 10_000) record.latency.push(systemClock.now(), lat);
  };
  const scratch: number[] = [];
  return {
    transport: "udp",
    relay: () => relay.report(),
    record,
    drain: () => {
      jb.events.drainInto(scratch);
      for (const v of scratch) record.gaps.push(v);
      scratch.length = 0;
      return Promise.resolve();
    },
    status: () =>
      Promise.resolve({
        transport: "udp",
        playout: "reference",
        packets_received: client.receiver.seq.received,
        packets_expected: client.receiver.seq.expected,
        jb: {
          delayMs: jb.delayMs,
          jitterMs: jb.jitterMs,
          concealed: jb.concealedPackets,
          dropped: jb.droppedPackets,
          skipped: jb.skippedFrames,
          repeated: jb.repeatedFrames,
          resyncs: jb.resyncs,
        },
      }),
    close: async () => {
      await client.stop().catch(() => {});
      await relay.close();
    },
  };
}

export interface Row {
  /** The profile (and a tag, when rendered: "stage-ap (before)"). */
  profile: WifiProfileName | string;
  transport: Transport;
  playout: string;
  figures: ListenerFigures;
  /** The listener's status (test hook) at the end of the window, and at its start. */
  status: Record<string, unknown>;
  statusBefore: Record<string, unknown>;
  /** Pages: seconds of the window the Wi-Fi warning was up (sampled every 5 s). */
  warnedSeconds?: number | null;
  /**
   * In the window: the model's spikes and drops, and how late the relay sent what it held;
   * since the start: packets it decided.
   */
  relay: {
    spikes: number;
    drops: number;
    packets: number;
    stats: unknown;
    lateness?: LatenessSummary;
    /** RTP (the reference client): how late the server's packets reached the relay. */
    sendLateness?: LatenessSummary;
    /** The relay thread got its 1 ns timer slack / its nice value. */
    priority?: { slack: boolean; nice: boolean; rt?: boolean };
  };
  /** The host over the window: 1-minute load average (mean, max of samples every 5 s). */
  load?: { mean: number; max: number };
  /**
   * The same 5 ms probe stream through a relay on the bench's own thread (as the relays
   * were) and through one on the relay thread, over the window: their send lateness.
   */
  probe?: { inline: LatenessSummary; thread: LatenessSummary };
  /**
   * Where the playout latency goes, medians of the page's status sampled every 5 s: capture →
   * receipt (the server, the relay, the browser's network path), the jitter buffer's delay, the
   * engine's lead (scheduled buffers) or render quantum (worklet).
   */
  parts?: { receiptMs: number; delayMs: number; leadMs: number; clockOffsetMs?: number };
}

export interface RunOptions {
  profile: WifiProfileName;
  seed: number;
  warmupS: number;
  seconds: number;
  transports: Transport[];
  spikesPerMin?: number;
  /** The plain-http pages' playout engine (the page's default unless told). */
  httpPlayout: string;
  /** The server's packet time (`audio.ptime_ms`; default 5). */
  ptimeMs?: number;
  /** The relay threads' nice value (default RELAY_NICE) and the UDP one's SCHED_FIFO priority. */
  relayNice?: number;
  relayRt?: number;
  log?: (line: string) => void;
}

/** The 1-minute load average (Linux), NaN elsewhere. */
function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/**
 * A 5 ms stream (a page's packet rate) through two relays of the same profile and seed: one on
 * the bench's own thread (UdpImpairmentRelay, runtime timers: how the bench's relays ran before)
 * and one on the relay thread. Their lateness, side by side, in the same run.
 */
async function startProbe(host: RelayHost, m: ModelSpec) {
  const sink = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sinkPort = (sink.addr as Deno.NetAddr).port;
  const draining = (async () => {
    const b = new Uint8Array(2048);
    for (;;) {
      try {
        await sink.receive(b);
      } catch {
        return;
      }
    }
  })();
  const target = { hostname: "127.0.0.1", port: sinkPort };
  const inline = new UdpImpairmentRelay({
    target: { transport: "udp", ...target },
    model: recordingModel(m),
    impaired: "to-target",
  });
  const thread = await host.udp(m, target, "to-target");
  const src = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const pkt = new Uint8Array(300);
  const to = (port: number) => ({ transport: "udp" as const, hostname: "127.0.0.1", port });
  const timer = setInterval(() => {
    src.send(pkt, to(inline.port)).catch(() => {});
    src.send(pkt, to(thread.port)).catch(() => {});
  }, 5);
  return {
    reset: () => inline.link.lateness.reset(),
    async stop(): Promise<{ inline: LatenessSummary; thread: LatenessSummary }> {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 300));
      const out = {
        inline: inline.link.lateness.summary(),
        thread: (await thread.report()).lateness,
      };
      await inline.close();
      await thread.close();
      src.close();
      sink.close();
      await draining;
      return out;
    },
  };
}

/** One profile: a server, the listeners behind their relays, the figures. */
export async function runProfile(o: RunOptions): Promise<Row[]> {
  const log = o.log ?? ((l: string) => console.error(l));
  const spec = (t: Transport): ModelSpec => ({
    profile: o.profile,
    seed: o.seed * 1000 + SEED_OFFSET[t],
    spikesPerMin: o.spikesPerMin,
  });
  const host = new RelayHost(o.relayNice ?? RELAY_NICE, o.relayRt ?? RELAY_RT_PRIORITY);
  const httpsPort = freePort();
  const wtRelay = await host.udp(
    spec("webtransport"),
    { hostname: "127.0.0.1", port: httpsPort },
    "from-target",
  );
  const server = await spawnServer(httpsPort, wtRelay.port, o.ptimeMs ?? 5);
  const { ctx } = await launchChromium({
    viewport: { width: 390, height: 844 },
    args: ["--autoplay-policy=no-user-gesture-required"],
    timeoutMs: 30_000,
    ignoreHTTPSErrors: true,
  });
  const listeners: Listener[] = [];
  const probe = await startProbe(host, { profile: o.profile, seed: o.seed * 1000 + 9 });
  let probeResult: { inline: LatenessSummary; thread: LatenessSummary } | undefined;
  try {
    for (const t of o.transports) {
      log(`[WIFI] ${o.profile}: starting ${t}`);
      if (t === "websocket") {
        const relay = await host.tcp(
          spec("websocket"),
          { hostname: "127.0.0.1", port: server.httpPort },
          TCP_RTO_MIN_MS,
        );
        listeners.push(
          await pageListener(
            t,
            await ctx.newPage(),
            `http://127.0.0.1:${relay.port}/?transport=websocket&playout=${o.httpPlayout}`,
            {
              close: () => relay.close(),
              retransmitMs: TCP_RTO_MIN_MS,
              relay: () => relay.report(),
            },
          ),
        );
      } else if (t === "datachannel") {
        const page = await ctx.newPage();
        let relay: HostedRelay | null = null;
        let relayTarget = "";
        await page.routeWebSocket(/\/listen/, (ws) => {
          const server = ws.connectToServer();
          // The page's own candidates are kept from the server, or it would check them
          // directly and the browser could pick that path: it learns the page's address
          // from the checks that come through the relay (peer-reflexive).
          ws.onMessage((msg) => {
            if (typeof msg === "string" && msg.includes('"webrtc_offer"')) {
              const m = JSON.parse(msg);
              m.sdp = withoutCandidates(m.sdp);
              server.send(JSON.stringify(m));
            } else server.send(msg);
          });
          // In order: an answer waits for its relay (on the relay thread), what follows waits for it.
          let chain: Promise<void> = Promise.resolve();
          server.onMessage((msg) => {
            chain = chain.then(async () => {
              if (typeof msg === "string" && msg.includes('"webrtc_answer"')) {
                const m = JSON.parse(msg);
                const probe = candidatesToRelay(m.sdp, "127.0.0.1", 0);
                if (probe.target) {
                  const key = `${probe.target.port}`;
                  if (key !== relayTarget) {
                    void relay?.close();
                    relay = await host.udp(spec("datachannel"), probe.target, "from-target");
                    relayTarget = key;
                  }
                  m.sdp = candidatesToRelay(m.sdp, "127.0.0.1", relay!.port).sdp;
                  ws.send(JSON.stringify(m));
                  return;
                }
              }
              ws.send(msg);
            }).catch((e) => log(`[WIFI] datachannel signalling: ${e}`));
          });
        });
        listeners.push(
          await pageListener(
            t,
            page,
            `http://127.0.0.1:${server.httpPort}/?transport=datachannel&playout=${o.httpPlayout}`,
            {
              close: async () => await (relay as HostedRelay | null)?.close(),
              relay: async () => (await (relay as HostedRelay | null)?.report()) ?? null,
            },
          ),
        );
      } else if (t === "webtransport") {
        listeners.push(
          await pageListener(
            t,
            await ctx.newPage(),
            `https://127.0.0.1:${httpsPort}/?transport=webtransport&playout=worklet`,
            { close: () => Promise.resolve(), relay: () => wtRelay.report() },
          ),
        );
      } else {
        listeners.push(await udpListener(server.httpPort, host, spec("udp")));
      }
    }
    log(`[WIFI] ${o.profile}: all streaming; warm-up ${o.warmupS} s`);
    await new Promise((r) => setTimeout(r, o.warmupS * 1000));
    const before = new Map<Listener, Record<string, unknown>>();
    for (const l of listeners) {
      await l.drain();
      l.record.latency.length = 0;
      l.record.gaps.length = 0;
      before.set(l, await l.status());
    }
    await host.resetLateness();
    probe.reset();
    const from = systemClock.now();
    const to = from + o.seconds * 1000;
    let lastLog = from, tick = 0;
    const loads: number[] = [loadAverage()];
    /** Seconds each page showed the Wi-Fi warning (sampled every WARN_SAMPLE_S). */
    const warned = new Map<Listener, number>();
    /** Per listener, samples of capture → receipt, jitter-buffer delay and lead (ms). */
    const parts = new Map<
      Listener,
      { receipt: number[]; delay: number[]; lead: number[]; offset: number[] }
    >();
    while (systemClock.now() < to) {
      await new Promise((r) => setTimeout(r, 1000));
      for (const l of listeners) await l.drain();
      if (++tick % WARN_SAMPLE_S === 0) {
        loads.push(loadAverage());
        for (const l of listeners) {
          // deno-lint-ignore no-explicit-any
          const st = (await l.status()) as any;
          const n = st.network as { state?: string } | undefined;
          if (n?.state === "unstable") warned.set(l, (warned.get(l) ?? 0) + WARN_SAMPLE_S);
          const p = parts.get(l) ?? { receipt: [], delay: [], lead: [], offset: [] };
          parts.set(l, p);
          if (Number.isFinite(st.latency_ms)) p.receipt.push(st.latency_ms);
          if (Number.isFinite(st.jb?.delayMs)) p.delay.push(st.jb.delayMs);
          if (Number.isFinite(st.leadMs)) p.lead.push(st.leadMs);
          if (Number.isFinite(st.clockOffsetMs)) p.offset.push(st.clockOffsetMs);
        }
      }
      if (systemClock.now() - lastLog > 60_000) {
        lastLog = systemClock.now();
        log(`[WIFI] ${o.profile}: ${((lastLog - from) / 1000).toFixed(0)} of ${o.seconds} s`);
      }
    }
    const end = systemClock.now();
    // Gap events are stamped when the missing packet would have come: those of the last
    // second are still to be played; let them be, then drain once more.
    await new Promise((r) => setTimeout(r, 1000));
    probeResult = await probe.stop();
    const load = {
      mean: loads.reduce((a, b) => a + b, 0) / loads.length,
      max: Math.max(...loads),
    };
    log(
      `[WIFI] ${o.profile}: load ${load.mean.toFixed(2)} (max ${load.max.toFixed(2)}); ` +
        `probe relay lateness p50/p99/max inline ${fmtLate(probeResult.inline)}, ` +
        `thread ${fmtLate(probeResult.thread)}`,
    );
    const rows: Row[] = [];
    for (const l of listeners) {
      await l.drain();
      const rep = await l.relay();
      if (rep?.sendLateness) {
        log(
          `[WIFI] ${o.profile}: server's RTP at the relay, late p50/p99/max ${
            fmtLate(rep.sendLateness)
          } ms`,
        );
      }
      const relay = {
        spikes: rep?.spikes ?? [],
        drops: rep?.drops ?? [],
        retransmitMs: l.retransmitMs,
      };
      const status = await l.status();
      if (l.transport !== "udp" && status.transport !== l.transport) {
        throw new Error(
          `${l.transport} page ended up on ${status.transport}: ${JSON.stringify(status.stateLog)}`,
        );
      }
      rows.push({
        profile: o.profile,
        transport: l.transport,
        playout: (l.transport === "udp" || l.transport === "webtransport"
          ? PLAYOUT[l.transport]
          : `${o.httpPlayout} (http)`) +
          ((o.ptimeMs ?? 5) === 5 ? "" : `, ${o.ptimeMs} ms packets`),
        figures: figures(l.record, relay, from, end),
        status,
        statusBefore: before.get(l)!,
        warnedSeconds: l.transport === "udp" ? null : warned.get(l) ?? 0,
        relay: {
          spikes: relay.spikes.filter((s) =>
            s.startMs >= from && s.startMs < end
          ).length,
          drops: relay.drops.filter((d) => d >= from && d < end).length,
          packets: rep?.packets ?? 0,
          stats: rep?.stats,
          lateness: rep?.lateness,
          sendLateness: rep?.sendLateness,
          priority: rep?.priority,
        },
        load,
        probe: probeResult,
        parts: (() => {
          const p = parts.get(l);
          return p
            ? {
              receiptMs: median(p.receipt),
              delayMs: median(p.delay),
              leadMs: median(p.lead),
              clockOffsetMs: median(p.offset),
            }
            : undefined;
        })(),
      });
    }
    return rows;
  } finally {
    if (!probeResult) await probe.stop().catch(() => {});
    for (const l of listeners) await l.close().catch(() => {});
    await ctx.close().catch(() => {});
    await server.stop();
    await host.stop();
  }
}

function median(v: number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Where each row's latency goes (medians over the window; "rest": p50 minus the parts). */
export function partsTable(rows: Row[]): string {
  const f = (
    v: number | undefined,
  ) => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(1));
  const lines = [
    "| profile | transport | playout | latency p50 (ms) | capture → receipt | jitter-buffer delay | lead / quantum | rest | clock sync's error (in the figures) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const p = r.parts, lat = r.figures.latency.p50;
    const rest = p && lat !== null ? lat - p.receiptMs - p.delayMs - p.leadMs : NaN;
    lines.push(
      `| ${r.profile} | ${r.transport} | ${r.playout} | ${f(lat ?? undefined)} | ${
        f(p?.receiptMs)
      } | ${f(p?.delayMs)} | ${f(p?.leadMs)} | ${f(rest)} | ${f(p?.clockOffsetMs)} |`,
    );
  }
  return lines.join("\n");
}

/** The relay's own lateness (old runs: only their maximum, `maxLateMs`). */
function relayLate(r: Row): string {
  if (r.relay.lateness) return fmtLate(r.relay.lateness);
  const max = (r.relay.stats as { maxLateMs?: number } | undefined)?.maxLateMs;
  return typeof max === "number" ? `– / – / ${max.toFixed(1)}` : "–";
}

/** The probe's lateness, inline (the bench's thread) against the relay thread, per run. */
export function probeTable(rows: Row[]): string {
  // Rows of one run share its probe: one pair of lines per run, named by its listeners.
  const runs = new Map<string, Row[]>();
  for (const r of rows) {
    if (!r.probe) continue;
    const k = JSON.stringify([r.profile, r.probe, r.load]);
    runs.set(k, [...(runs.get(k) ?? []), r]);
  }
  const lines = [
    "| run (listeners) | relay | lateness p50 / p99 / max (ms) | > 1 ms late | load avg (mean / max) |",
    "|---|---|---|---|---|",
  ];
  for (const rs of runs.values()) {
    const r = rs[0], p = r.probe!;
    const name = `${r.profile} (${rs.map((x) => x.transport).join(", ")})`;
    const load = r.load ? `${r.load.mean.toFixed(2)} / ${r.load.max.toFixed(2)}` : "–";
    for (
      const [k, l] of [["bench thread (as before)", p.inline], ["relay thread", p.thread]] as const
    ) {
      lines.push(
        `| ${name} | ${k} | ${fmtLate(l)} | ${(100 * l.over1Ms).toFixed(1)} % | ${load} |`,
      );
    }
  }
  return lines.join("\n");
}

function fmtLate(l: LatenessSummary | undefined): string {
  return l ? `${l.p50Ms.toFixed(2)} / ${l.p99Ms.toFixed(2)} / ${l.maxMs.toFixed(1)}` : "–";
}

const f1 = (v: number | null) => (v === null ? "–" : v.toFixed(1));

/** The table (markdown): one row per profile and transport. */
export function table(rows: Row[]): string {
  const head =
    "| profile | transport | playout | latency p50 / p95 (ms) | gaps outside spikes: late / lost per 10 min (packets) | gaps in spikes per 10 min (packets) | spikes | recovered ≤ 10 s | slowest recovery (s) | resyncs (in spikes) | jitter-buffer delay at end (ms) | schedule underruns per 10 min (lead at end, ms) | Wi-Fi warning shown (s) | relay late p50 / p99 / max (ms) | load avg (mean / max) |";
  const sep = "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";
  const lines = rows.map((r) => {
    const f = r.figures, s = f.seconds;
    const g = (c: { events: number; packets: number }) =>
      `${per10Min(c.events, s).toFixed(0)} (${per10Min(c.packets, s).toFixed(0)})`;
    // Spikes with a latency level before them (not in the run's first seconds).
    const rec = f.spikes.filter((x) => x.baselineMs !== null).map((x) => x.recoveryMs);
    const ok = rec.filter((x) => x !== null && x <= 10_000).length;
    const slowest = rec.some((x) => x === null)
      ? "never"
      : rec.length
      ? (Math.max(...(rec as number[])) / 1000).toFixed(1)
      : "–";
    // deno-lint-ignore no-explicit-any
    const st = r.status as any, st0 = (r.statusBefore ?? {}) as any;
    const jb = st.jb;
    const under = typeof st.underruns === "number"
      ? `${per10Min(st.underruns - (st0.underruns ?? 0), s).toFixed(0)} (${
        Number(st.leadMs).toFixed(0)
      })`
      : "–";
    return `| ${r.profile} | ${r.transport} | ${r.playout} | ${f1(f.latency.p50)} / ${
      f1(f.latency.p95)
    } | ${g(f.gaps.late)} / ${g(f.gaps.loss)} | ${
      g(f.gaps.spike)
    } | ${f.spikes.length} | ${ok} of ${rec.length} | ${slowest} | ${f.resyncs.total} (${f.resyncs.inSpike}) | ${
      jb ? Number(jb.delayMs).toFixed(0) : "–"
    } | ${under} | ${r.warnedSeconds ?? "–"} | ${relayLate(r)} | ${
      r.load ? `${r.load.mean.toFixed(2)} / ${r.load.max.toFixed(2)}` : "–"
    } |`;
  });
  return [head, sep, ...lines].join("\n");
}

if (import.meta.main && Deno.args[0] === "--render") {
  // The table of runs already written: --render FILE.json… (a file named *before* is labelled so).
  const rows: Row[] = [];
  for (const f of Deno.args.slice(1)) {
    const d = JSON.parse(await Deno.readTextFile(f));
    const tag = f.includes("before-playout")
      ? " (playout before)"
      : f.includes("before")
      ? " (before)"
      : "";
    for (const r of d.rows) rows.push({ ...r, profile: `${r.profile}${tag}` });
  }
  console.log(table(rows));
  console.log("\n" + probeTable(rows));
  console.log("\n" + partsTable(rows));
} else if (import.meta.main) {
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      profiles: { type: "string", default: "clean,stage-ap,crowded" },
      minutes: { type: "string", default: "10" },
      warmup: { type: "string", default: "20" },
      seed: { type: "string", default: "1" },
      transports: { type: "string", default: ALL.join(",") },
      out: { type: "string", default: "docs/loadtest/wifi" },
      label: { type: "string", default: "wifi" },
      "http-playout": { type: "string", default: "buffer" },
      ptime: { type: "string", default: "5" },
      "relay-nice": { type: "string", default: String(RELAY_NICE) },
      "relay-rt": { type: "string", default: String(RELAY_RT_PRIORITY) },
    },
  });
  const profiles = v.profiles.split(",") as WifiProfileName[];
  for (const p of profiles) {
    if (!(p in WIFI_PROFILES)) throw new Error(`unknown profile ${p}`);
  }
  const transports = v.transports.split(",") as Transport[];
  for (const t of transports) if (!ALL.includes(t)) throw new Error(`unknown transport ${t}`);
  const rows: Row[] = [];
  const started = new Date().toISOString();
  for (const profile of profiles) {
    rows.push(
      ...await runProfile({
        profile,
        seed: Number(v.seed),
        warmupS: Number(v.warmup),
        seconds: Number(v.minutes) * 60,
        transports,
        httpPlayout: v["http-playout"],
        ptimeMs: Number(v.ptime),
        relayNice: Number(v["relay-nice"]),
        relayRt: Number(v["relay-rt"]),
      }),
    );
    console.log(table(rows));
    console.log("\n" + probeTable(rows));
    console.log("\n" + partsTable(rows));
  }
  await Deno.mkdir(v.out, { recursive: true });
  const file = `${v.out}/${v.label}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      { started, args: Deno.args, minutes: Number(v.minutes), seed: Number(v.seed), rows },
      null,
      1,
    ) + "\n",
  );
  console.log(`\nwrote ${file}`);
  Deno.exit(0);
}
