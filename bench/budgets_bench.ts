/**
 * The wall-clock budgets the tests used to assert, measured on this machine
 * (the tests now assert relations that hold however loaded it is; issue #12
 * finding 8). Each row is a figure with its budget and whether it was met:
 *
 *   loopback latency          reference client, mean            < 200 ms
 *   FORCE_DELAY_MS=50         mean latency rise                 ≥ 40 ms
 *   loopback loss             reference client                  < 5 %
 *   NTP offset                |offset| on the same machine      < 50 ms
 *   after heartbeat timeout   packets in the next 300 ms        ≤ 2
 *   worker ticker             max(deadline − tick)              ≤ 0.05 ms
 *
 * (The listener page's "> 300 packets in 3 s" needs a browser:
 * tests/listener_webtransport_browser_test.ts keeps it as a relation.)
 *
 *   deno run -A bench/budgets_bench.ts [seconds]     (default 5)
 */
import { startServer } from "../src/server.ts";
import { ReferenceClient } from "../src/client/session.ts";
import { openUdpSource } from "../src/client/udp_source.ts";
import { clockSample } from "../src/client/clock_sync.ts";
import { WorkerTicker } from "../src/audio/ticker.ts";
import { logConfig } from "../src/util/log.ts";
import { systemClock } from "../src/util/clock.ts";
import { heading, num, table } from "./report.ts";

export interface BudgetRow {
  check: string;
  measured: number;
  unit: string;
  budget: string;
  met: boolean;
}

const LATENCY_BUDGET_MS = 200;
const FORCE_DELAY_MS = 50;
const FORCE_DELAY_MIN_RISE_MS = 40;
const LOSS_BUDGET_PCT = 5;
const NTP_OFFSET_BUDGET_MS = 50;
const NTP_ROUNDS = 20;
const AFTER_TIMEOUT_WINDOW_MS = 300;
const AFTER_TIMEOUT_MAX_PACKETS = 2;
const TICKER_EARLY_BUDGET_MS = 0.05;
const TICKER_PERIOD_MS = 5;
const TICKER_START_LEAD_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Server = Awaited<ReturnType<typeof startServer>>;

async function withServer<T>(
  opts: { heartbeatTimeoutS?: number },
  fn: (srv: Server) => Promise<T>,
): Promise<T> {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-budgets-" });
  const write = logConfig.write;
  logConfig.write = () => {};
  const srv = await startServer({
    httpPort: 0,
    rtpPort: 0,
    hostname: "127.0.0.1",
    dataDir,
    source: "test",
    ...opts,
  });
  try {
    return await fn(srv);
  } finally {
    await srv.close();
    logConfig.write = write;
    await Deno.remove(dataDir, { recursive: true });
  }
}

function client(srv: Server, forceDelayMs: number): ReferenceClient {
  return new ReferenceClient({
    server: srv.url,
    udp: openUdpSource(0, "127.0.0.1"),
    channels: [1, 5, 32],
    forceDelayMs,
    log: () => {},
    backoffInitialMs: 50,
  }).start();
}

async function latencyAndLoss(seconds: number): Promise<BudgetRow[]> {
  return await withServer({}, async (srv) => {
    const plain = client(srv, 0);
    const delayed = client(srv, FORCE_DELAY_MS);
    await sleep(seconds * 1000);
    const [a, b] = await Promise.all([plain.stop(), delayed.stop()]);
    const rise = b.latency_ms! - a.latency_ms!;
    const lossPct = a.packet_loss_rate * 100;
    return [
      row(
        "loopback latency (mean)",
        a.latency_ms!,
        "ms",
        `< ${LATENCY_BUDGET_MS}`,
        (x) => x < LATENCY_BUDGET_MS,
      ),
      row(
        `FORCE_DELAY_MS=${FORCE_DELAY_MS} latency rise`,
        rise,
        "ms",
        `≥ ${FORCE_DELAY_MIN_RISE_MS}`,
        (
          x,
        ) => x >= FORCE_DELAY_MIN_RISE_MS,
      ),
      row("loopback loss", lossPct, "%", `< ${LOSS_BUDGET_PCT}`, (x) => x < LOSS_BUDGET_PCT),
    ];
  });
}

/** A raw contract client: its WebSocket messages in order. */
async function openWs(srv: Server) {
  const ws = new WebSocket(srv.url.replace(/^http/, "ws") + "/ws");
  const queue: Record<string, unknown>[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  ws.onmessage = (e) => {
    queue.push(JSON.parse(e.data));
    wake?.();
  };
  ws.onclose = () => {
    closed = true;
    wake?.();
  };
  const next = async (type: string) => {
    while (true) {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return queue.splice(i, 1)[0];
      if (closed) throw new Error(`socket closed waiting for ${type}`);
      await new Promise<void>((r) => (wake = r));
    }
  };
  const welcome = await next("welcome");
  return { ws, next, clientId: welcome.client_id as string, isClosed: () => closed };
}

async function ntpOffset(): Promise<BudgetRow[]> {
  return await withServer({}, async (srv) => {
    const c = await openWs(srv);
    let worst = 0;
    for (let i = 0; i < NTP_ROUNDS; i++) {
      const t1 = systemClock.now();
      c.ws.send(JSON.stringify({ type: "ntp_request", t1 }));
      const r = await c.next("ntp_response");
      const s = clockSample(t1, r.t2 as number, r.t3 as number, systemClock.now());
      worst = Math.max(worst, Math.abs(s.offsetMs));
    }
    c.ws.close();
    return [
      row(
        "NTP |offset|, worst of 20",
        worst,
        "ms",
        `< ${NTP_OFFSET_BUDGET_MS}`,
        (x) => x < NTP_OFFSET_BUDGET_MS,
      ),
    ];
  });
}

async function afterTimeout(): Promise<BudgetRow[]> {
  return await withServer({ heartbeatTimeoutS: 1 }, async (srv) => {
    const c = await openWs(srv);
    const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const port = (udp.addr as Deno.NetAddr).port;
    let packets = 0;
    const receiving = (async () => {
      try {
        for await (const _ of udp) packets++;
      } catch {
        // closed
      }
    })();
    const r = await fetch(`${srv.url}/request-audio?udp_port=${port}&client_id=${c.clientId}`);
    await r.body?.cancel();
    c.ws.send(JSON.stringify({ type: "client_config", payload: { channels: [{ id: 1 }] } }));
    await c.next("client_config_ack");
    while (!c.isClosed()) await sleep(10);
    const atClose = packets;
    await sleep(AFTER_TIMEOUT_WINDOW_MS);
    const after = packets - atClose;
    udp.close();
    await receiving;
    return [
      row(
        `packets ≤ ${AFTER_TIMEOUT_WINDOW_MS} ms after heartbeat timeout`,
        after,
        "",
        `≤ ${AFTER_TIMEOUT_MAX_PACKETS}`,
        (x) => x <= AFTER_TIMEOUT_MAX_PACKETS,
      ),
    ];
  });
}

async function tickerEarly(seconds: number): Promise<BudgetRow[]> {
  const n = Math.round((seconds * 1000) / TICKER_PERIOD_MS);
  const t = new WorkerTicker();
  // Past the worker's start-up (tens of ms), so the first deadlines are not skipped.
  const first = systemClock.now() + TICKER_START_LEAD_MS;
  let earliest = -Infinity;
  let k = 0;
  await new Promise<void>((resolve) => {
    t.start(first, TICKER_PERIOD_MS, () => {
      // The k-th call follows the ticker's k-th tick or a later one (it coalesces and skips,
      // never adds), so its deadline is at least first + k periods.
      earliest = Math.max(earliest, first + k * TICKER_PERIOD_MS - systemClock.now());
      if (++k === n) resolve();
    });
  });
  t.stop();
  return [
    row(
      "worker ticker, max(deadline − tick); < 0: never early",
      earliest,
      "ms",
      `≤ ${TICKER_EARLY_BUDGET_MS}`,
      (x) => x <= TICKER_EARLY_BUDGET_MS,
    ),
  ];
}

function row(
  check: string,
  measured: number,
  unit: string,
  budget: string,
  ok: (x: number) => boolean,
): BudgetRow {
  return { check, measured, unit, budget: `${budget} ${unit}`.trim(), met: ok(measured) };
}

/** Every budget row, measured one after the other; `seconds` of streaming per streaming case. */
export async function benchBudgets(seconds = 5): Promise<BudgetRow[]> {
  return [
    ...await latencyAndLoss(seconds),
    ...await ntpOffset(),
    ...await afterTimeout(),
    ...await tickerEarly(seconds),
  ];
}

export function formatBudgets(rows: BudgetRow[]): string {
  return table(rows, [
    { title: "check", value: (r) => r.check, align: "left" },
    { title: "measured", value: (r) => `${num(r.measured, 3)} ${r.unit}`.trim() },
    { title: "budget", value: (r) => r.budget },
    { title: "met", value: (r) => (r.met ? "yes" : "NO"), align: "left" },
  ]);
}

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? 5);
  const rows = await benchBudgets(seconds);
  console.log(heading("budgets the tests no longer assert (measured here, now)"));
  console.log(formatBudgets(rows));
}
