/**
 * `deno task loadtest --transport …` at CI size: per transport, its own
 * server (child process, HTTPS on for WebTransport), one UDP reference client
 * beside 2 headless listeners — the page's own connection and receive code,
 * each asking for its own mix — for a couple of seconds. Each listener
 * streams the mix it asked for over the transport asked for (no fallback),
 * and every packet it misses on loopback has a cause the bench counts: the
 * kernel dropped it (a UDP socket's buffer: DataChannel, WebTransport), the
 * server's sender dropped it because the listener's channel was backed up (a
 * starved client on a busy machine), or the server's relay ring overflowed
 * (its main thread a whole ring behind). Unaccounted loss fails, and so does a
 * transport that delivers nothing (a silent listener, or 100 % loss). The
 * report carries the fields the README's table is made of and writes its
 * files. No CPU or timing figure is asserted.
 */
import assert from "node:assert/strict";
import {
  type ListenerPoint,
  listenerWindow,
  runListenerLoadtest,
} from "../src/loadtest/listener_bench.ts";
import { listenerMix } from "../src/loadtest/headless_listener.ts";
import { markdownListenerTable, writeListenerReport } from "../src/loadtest/listener_report.ts";
import { parseListenerArgs } from "../src/loadtest/main.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "loadtest --transport: 2 headless listeners per transport stream their own mix without loss",
  ...opts,
  fn: async () => {
    const lines: string[] = [];
    const report = await runListenerLoadtest({
      transports: ["websocket", "datachannel", "webtransport"],
      sweep: [2],
      durationS: 2,
      warmupS: 0.5,
      udpClients: 1,
      udpChannels: [1, 2, 3, 4],
      chromium: 0,
      mapped: 16,
      log: (l) => lines.push(l),
    }, "test");
    assert.deepEqual(report.runs.map((r) => r.transport), [
      "websocket",
      "datachannel",
      "webtransport",
    ]);
    for (const run of report.runs) {
      const log = `${run.transport}: ${lines.join("\n")}`;
      assert.equal(run.error, null, log);
      assert.equal(run.points.length, 1, log);
      const p: ListenerPoint = run.points[0];
      assert.equal(p.listeners, 2);
      assert.equal(p.streaming, 2, log);
      assert.equal(p.silent, 0, log);
      assert.deepEqual(
        p.transports_used,
        { [run.transport]: 2 },
        "no fallback to another transport",
      );
      assert.deepEqual(p.server_sessions, { [run.transport]: 2 }, "the server streams over it");
      assert.deepEqual(p.mix_mismatches, [], "each listener gets the mix it asked for");
      assert.deepEqual(p.mixes, { opus: 1, pcm: 1, channels: 12 });
      assert.ok(p.packets_received > 0, log);
      const lost = p.packets_expected - p.packets_received;
      const kernel = run.transport === "websocket" ? 0 : p.kernel_udp_drops ?? 0;
      const server = p.server_sender_dropped + p.server_relay_dropped;
      assert.ok(
        lost <= kernel + server,
        `${run.transport}: lost ${lost}, kernel dropped ${kernel}, the server ${server}`,
      );
      assert.equal(p.decode_errors, 0);
      assert.ok(p.latency_ms_p50 !== null && p.latency_ms_p95 !== null, "latency measured");
      assert.ok(p.lateness_ms.count > 0, "the server's period lateness is read");
      assert.ok(p.server_cpu_pct !== null && p.server_rss_mib !== null, "server from /proc");
      assert.ok(p.udp !== null && p.udp.streaming === 1 && p.udp.packets_received > 0);
      assert.equal(typeof p.concealments_per_min, "number");
    }
    const dir = await Deno.makeTempDir({ prefix: "m32-listener-report-" });
    try {
      const files = await writeListenerReport(report, dir);
      const json = JSON.parse(await Deno.readTextFile(files.json));
      assert.equal(json.kind, "listeners");
      assert.equal(json.runs[2].points[0].transport, "webtransport");
      const html = await Deno.readTextFile(files.html);
      assert.equal((html.match(/<svg /g) ?? []).length, 6);
      assert.equal(markdownListenerTable(report).split("\n").length, 2 + 3);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("listener mixes differ, stay among the mapped channels, mostly Opus and some PCM", () => {
  const mapped = Array.from({ length: 16 }, (_, i) => i + 1);
  const mixes = Array.from({ length: 20 }, (_, i) => listenerMix(i, mapped));
  assert.equal(new Set(mixes.map((m) => JSON.stringify(m))).size, 20);
  for (const m of mixes) {
    assert.ok(m.channels.length >= 2 && m.channels.every((c) => mapped.includes(c)));
    assert.equal(new Set(m.channels).size, m.channels.length);
  }
  assert.equal(mixes.filter((m) => m.compression === "opus").length, 15);
  assert.ok(listenerMix(0, [3, 7]).channels.every((c) => c === 3 || c === 7));
});

Deno.test("a window where listeners received nothing is not a clean one", () => {
  const snap = {
    received: 100,
    expected: 100,
    concealedPackets: 0,
    concealedGroups: 0,
    droppedPackets: 0,
    decodeErrors: 0,
    reconnects: 0,
    streaming: true,
    latCount: 0,
    latSum: 0,
  };
  const w = listenerWindow([snap, snap], [snap, { ...snap, received: 150, expected: 150 }], 1);
  assert.equal(
    w.silent,
    1,
    "the one that got nothing is counted (the bench's verdict misses on it)",
  );
  assert.equal(listenerWindow([snap, snap], [snap, snap], 1).loss_pct, 100, "none got anything");
  const lossy = listenerWindow([snap], [{ ...snap, received: 190, expected: 200 }], 1);
  assert.equal(lossy.loss_pct, 10);
});

Deno.test("loadtest --transport flags: transports, sweep, and what is refused", () => {
  const o = parseListenerArgs(["--transport", "datachannel,websocket", "--sweep", "1,5,20"]);
  assert.deepEqual(o.transports, ["datachannel", "websocket"]);
  assert.deepEqual(o.sweep, [1, 5, 20]);
  assert.equal(o.chromium, 2);
  assert.equal(o.udpClients, 4);
  assert.deepEqual(parseListenerArgs(["--transport", "websocket"]).sweep, [20]);
  assert.deepEqual(parseListenerArgs(["--transport=webtransport", "--listeners", "3"]).sweep, [3]);
  assert.throws(() => parseListenerArgs(["--transport", "udp"]), /--transport must be/);
  assert.throws(
    () => parseListenerArgs(["--transport", "websocket", "--sweep", "0,2"]),
    /positive/,
  );
});
