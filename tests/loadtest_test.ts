/**
 * A CI-sized run of the QoS test bench: its own server (child process), a
 * 2-step ramp, 3 clients for 2 s, and 10 % relay loss that must show up as
 * about 10 % measured loss. The report files are written and parse.
 */

import assert from "node:assert/strict";
import { renderHtml, writeReport } from "../src/loadtest/report.ts";
import { runLoadtest } from "../src/loadtest/scenarios.ts";

Deno.test("load test bench measures a small fleet and relay loss, and writes its report", async () => {
  const lines: string[] = [];
  const report = await runLoadtest({
    scenarios: [1, 2, 3],
    max: 2,
    add: 1,
    stepS: 1.5,
    warmupS: 0.5,
    clients: 3,
    durationS: 2,
    windowS: 1,
    s3Clients: 2,
    conditions: [{ name: "loss 10 %", lossPct: 10, seed: 42 }],
    channels: [1, 2, 3, 4],
    forceDelays: [0],
    nft: false,
    nftLossPct: 10,
    restart: false,
    log: (l) => lines.push(l),
  });
  const s1 = report.scenario1!;
  assert.deepEqual(s1.steps.map((s) => s.clients), [1, 2]);
  const s2 = report.scenario2!.overall;
  assert.equal(s2.clients, 3);
  assert.equal(s2.streaming, 3, lines.join("\n"));
  assert.ok(s2.packets_received > 0);
  assert.ok(s2.loss_pct < 5, `loopback loss ${s2.loss_pct} %`);
  assert.ok(s2.latency_ms_mean !== null && s2.latency_ms_mean > 0);
  assert.ok(s2.server_cpu_pct !== null && s2.server_rss_mib !== null, "server sampled from /proc");
  const c = report.scenario3!.conditions[0];
  assert.ok(c.relay_dropped > 0);
  assert.ok(
    c.result.loss_pct > 5 && c.result.loss_pct < 15,
    `10 % relay loss measured as ${c.result.loss_pct} %`,
  );
  assert.ok(c.result.concealed_packets > 0, "lost packets are concealed");
  assert.deepEqual(report.scenario3!.nft, { skipped: "disabled (--no-nft)" });
  const dir = await Deno.makeTempDir({ prefix: "m32-loadtest-report-" });
  try {
    const files = await writeReport(report, dir);
    assert.equal(JSON.parse(await Deno.readTextFile(files.json)).scenario2.overall.clients, 3);
    const html = await Deno.readTextFile(files.html);
    assert.equal((html.match(/<svg /g) ?? []).length, 4, "loss, jitter, latency and CPU charts");
    assert.match(renderHtml(report), /Scenario 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
