/**
 * A CI-sized run of the QoS test bench: its own server (child process), a
 * 2-step ramp, 3 clients for 2 s, and seeded 10 % relay loss. Loss is checked
 * against what dropped it (the kernel's UDP counters, the relay's own seeded
 * decisions), never against a fixed share. The report files are written and parse.
 */

import assert from "node:assert/strict";
import { renderHtml, writeReport } from "../src/loadtest/report.ts";
import { runLoadtest } from "../src/loadtest/scenarios.ts";
import { LoadClient } from "../src/loadtest/fleet.ts";
import { DROP } from "../src/net/impairment.ts";
import { UniformImpairment } from "../src/net/uniform_impairment.ts";
import { startTestServer } from "./helpers/server.ts";

/**
 * Datagrams this network namespace's kernel dropped (/proc/net/snmp `Udp:`
 * InErrors, which include RcvbufErrors, plus SndbufErrors): the only loss a
 * loopback path has. Other processes' drops count too, so it is an upper bound.
 */
async function kernelUdpDrops(): Promise<number> {
  const lines = (await Deno.readTextFile("/proc/net/snmp")).split("\n")
    .filter((l) => l.startsWith("Udp: "));
  const names = lines[0].split(/\s+/), values = lines[1].split(/\s+/).map(Number);
  return values[names.indexOf("InErrors")] + values[names.indexOf("SndbufErrors")];
}

Deno.test("load test bench measures a small fleet and relay loss, and writes its report", async () => {
  const lines: string[] = [];
  const dropsBefore = await kernelUdpDrops();
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
  const kernelDrops = (await kernelUdpDrops()) - dropsBefore;
  const s1 = report.scenario1!;
  assert.deepEqual(s1.steps.map((s) => s.clients), [1, 2]);
  const s2 = report.scenario2!.overall;
  assert.equal(s2.clients, 3);
  assert.equal(s2.streaming, 3, lines.join("\n"));
  assert.ok(s2.packets_received > 0);
  // On loopback a packet is lost only where the kernel says it dropped one.
  const lost2 = s2.packets_expected - s2.packets_received;
  assert.ok(lost2 <= kernelDrops, `${lost2} lost on loopback, kernel dropped ${kernelDrops}`);
  assert.ok(s2.latency_ms_mean !== null && s2.latency_ms_mean > 0);
  assert.ok(s2.server_cpu_pct !== null && s2.server_rss_mib !== null, "server sampled from /proc");
  const c = report.scenario3!.conditions[0];
  // Behind the relays, the clients see loss, and only loss the relays or the kernel caused.
  const lost3 = c.result.packets_expected - c.result.packets_received;
  assert.ok(c.relay_dropped > 0 && lost3 > 0, `relays dropped ${c.relay_dropped}, lost ${lost3}`);
  assert.ok(
    lost3 <= c.relay_dropped + kernelDrops,
    `${lost3} lost, relays dropped ${c.relay_dropped}, kernel ${kernelDrops}`,
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

Deno.test("a client behind a seeded 10 % relay reports exactly the packets the relay dropped", async () => {
  const srv = await startTestServer();
  const impairment = { lossPct: 10, seed: 42 };
  const lc = new LoadClient({
    server: srv.url,
    channels: [1, 2, 3, 4],
    impairment: new UniformImpairment(impairment),
  });
  try {
    const seq = lc.client.receiver.seq;
    while (seq.received < 400) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await lc.stop();
    await srv.stop();
  }
  const relay = lc.relay!.stats;
  const seq = lc.client.receiver.seq;
  // The relay's decisions replayed from its seed: the n-th datagram it received is the
  // server's n-th packet to this client (one stream, in order on loopback).
  const model = new UniformImpairment(impairment);
  const dropped = Array.from({ length: relay.received }, (_, i) => model.decide(i) === DROP);
  assert.equal(dropped.filter((d) => d).length, relay.dropped, "it drops what its seed says");
  assert.equal(seq.resyncs, 0);
  // The client's sequence span starts at the first packet the relay let through.
  const first = dropped.indexOf(false);
  const last = first + seq.expected - 1;
  const droppedInSpan = dropped.slice(first, last + 1).filter((d) => d).length;
  assert.ok(droppedInSpan > 0, "a 400-packet run at 10 % drops some");
  assert.equal(seq.lost, droppedInSpan, `client lost ${seq.lost} of ${seq.expected}`);
  assert.equal(seq.received + droppedInSpan, seq.expected);
});

Deno.test("load test with --profile crowded: every window reports its relays, and the clients lose only what the relays dropped", async () => {
  const lines: string[] = [];
  const dropsBefore = await kernelUdpDrops();
  const report = await runLoadtest({
    scenarios: [2],
    max: 0,
    add: 1,
    stepS: 1,
    warmupS: 0.5,
    clients: 2,
    durationS: 3,
    windowS: 1,
    s3Clients: 0,
    conditions: [],
    channels: [1, 2, 3, 4],
    forceDelays: [0],
    nft: false,
    nftLossPct: 10,
    restart: false,
    profile: "crowded",
    seed: 1,
    log: (l) => lines.push(l),
  });
  const kernelDrops = (await kernelUdpDrops()) - dropsBefore;
  const s2 = report.scenario2!;
  assert.equal(s2.overall.streaming, 2, lines.join("\n"));
  for (const w of s2.windows) assert.ok(w.relay_received > 0, `window at ${w.t_s} s`);
  assert.ok(lines.some((l) => /relay_dropped=\d+ relay_in_spike=\d+/.test(l)));
  const o = s2.overall;
  const lost = o.packets_expected - o.packets_received;
  assert.ok(o.relay_dropped > 0, "crowded drops 1 % of 1200 packets and more");
  // A drop counts at the client once a later packet arrives, so a window's edges may shift up
  // to a burst and the packets held in flight per client (crowded: ≤ 20 packets a burst).
  const edge = 2 * (20 + 5);
  assert.ok(
    lost <= o.relay_dropped + kernelDrops + edge && lost >= o.relay_dropped - edge,
    `${lost} lost, relays dropped ${o.relay_dropped}, kernel ${kernelDrops}`,
  );
});
