/**
 * Dynamic sample rate (contract §7) against the real server: reported latency
 * or loss above the thresholds for hold_s steps the rate down (SQLite,
 * /audio-meta, config_changed with reason and new_sample_rate), good reports
 * step it back up; the reference client's own reports drive it too, with
 * FORCE_DELAY_MS, with seeded loss from our impairment relay (exact figures)
 * and with real loss from nftables inside a network namespace.
 */

import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { Probe } from "./helpers/probe.ts";
import { ReferenceClient } from "../src/client/session.ts";
import { openUdpSource } from "../src/client/udp_source.ts";
import { parseClientArgs } from "../src/client/cli.ts";
import { runCommand } from "../src/loadtest/netns_drop.ts";
import { statusView } from "../src/admin/views.ts";
import { DROP } from "../src/net/impairment.ts";
import { UdpImpairmentRelay } from "../src/net/impairment_relay.ts";
import { UniformImpairment } from "../src/net/uniform_impairment.ts";
import { LOSS_THRESHOLD } from "../src/qos/adaptation.ts";
import { logConfig } from "../src/util/log.ts";

const SHORT_HOLDS = { hold_s: 2, recover_hold_s: 3, latency_ms: 50 };
/** Start-up grace and step spacing shortened so a test sees steps in seconds (a variable: no excess-property check). */
const FAST = { adaptationTiming: { startupGraceMs: 500, minStepIntervalMs: 1000 } };
const WAIT_MS = 30_000;

function activeRate(srv: TestServer): number {
  const row = srv.ctx.store.db.prepare("SELECT sample_rate FROM audio_config WHERE active = 1")
    .get() as { sample_rate: number };
  return row.sample_rate;
}

async function metaRate(srv: TestServer): Promise<number> {
  const meta = await (await fetch(`${srv.url}/audio-meta`)).json();
  return meta.sample_rate;
}

function report(clientId: string, n: number, latencyMs: number) {
  return {
    client_id: clientId,
    timestamp: new Date().toISOString(),
    metrics: {
      packets_received: n,
      packets_expected: n,
      packet_loss_rate: 0,
      jitter_ms: 0.5,
      latency_ms: latencyMs,
      bandwidth_mbps: 1,
    },
  };
}

/** Posts a report for `probe` every 250 ms until it receives the `config_changed` event. */
async function reportUntilChanged(srv: TestServer, probe: Probe, latencyMs: number) {
  let n = 0;
  let done = false;
  const poster = (async () => {
    while (!done) {
      n += 50;
      const r = await fetch(`${srv.url}/qos-metrics`, {
        method: "POST",
        body: JSON.stringify(report(probe.clientId, n, latencyMs)),
      });
      assert.equal(r.status, 200);
      await r.body?.cancel();
      await new Promise((res) => setTimeout(res, 250));
    }
  })();
  try {
    return await probe.until(
      "config_changed event",
      () =>
        probe.messages.find((m) =>
          m.type === "event" && (m.payload as { type: string }).type === "config_changed"
        )?.payload as Record<string, unknown> | undefined,
      WAIT_MS,
    );
  } finally {
    done = true;
    await poster;
  }
}

Deno.test("high reported latency steps 48000 → 44100 (SQLite, /audio-meta, config_changed); good reports step back up", async () => {
  const srv = await startTestServer(FAST);
  const probes: Probe[] = [];
  try {
    srv.ctx.store.patch({ adaptation: SHORT_HOLDS });
    assert.equal(activeRate(srv), 48000);
    const { probe, ack } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    probes.push(probe);
    assert.equal(ack.sample_rate, 48000);
    await probe.waitPackets(5);

    const down = await reportUntilChanged(srv, probe, 150);
    assert.equal(down.new_sample_rate, 44100);
    assert.match(String(down.reason), /^latency too high, lowering sample rate/);
    assert.match(String(down.reason), /150 ms over the 50 ms threshold/);
    const warning = probe.messages.find((m) =>
      m.type === "event" && (m.payload as { type: string }).type === "network_warning"
    )?.payload as Record<string, unknown> | undefined;
    assert.ok(warning, "the client over the threshold was warned first");
    assert.equal(warning.latency_ms, 150);
    await probe.until("session end", () => probe.closeCode !== null);
    assert.equal(activeRate(srv), 44100);
    assert.equal(await metaRate(srv), 44100);
    assert.ok(srv.logs.some((l) => /lowering sample rate .*to_hz=44100/.test(l)), "logged");

    // The client reconnects at the new rate; good reports bring 48000 back.
    const again = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    probes.push(again.probe);
    assert.equal(again.ack.sample_rate, 44100);
    await again.probe.waitPackets(5);
    const up = await reportUntilChanged(srv, again.probe, 5);
    assert.equal(up.new_sample_rate, 48000);
    assert.match(String(up.reason), /^network quality good, raising sample rate/);
    assert.equal(activeRate(srv), 48000);
    assert.equal(await metaRate(srv), 48000);
  } finally {
    for (const p of probes) await p.close();
    await srv.stop();
  }
});

Deno.test("with adaptation disabled, high latency only warns the client and the rate stays", async () => {
  const srv = await startTestServer(FAST);
  try {
    srv.ctx.store.patch({ adaptation: { ...SHORT_HOLDS, enabled: false } });
    const { probe } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    try {
      await probe.waitPackets(5);
      // 16 reports over hold_s many times: enough to step were it enabled (see the test above).
      for (let i = 1; i <= 16; i++) {
        const r = await fetch(`${srv.url}/qos-metrics`, {
          method: "POST",
          body: JSON.stringify(report(probe.clientId, i * 50, 150)),
        });
        await r.body?.cancel();
        await new Promise((res) => setTimeout(res, 250));
      }
      const events = probe.messages.filter((m) => m.type === "event")
        .map((m) => (m.payload as { type: string }).type);
      assert.ok(events.includes("network_warning"), JSON.stringify(events));
      assert.ok(!events.includes("config_changed"), JSON.stringify(events));
      assert.equal(activeRate(srv), 48000);
    } finally {
      await probe.close();
    }
  } finally {
    await srv.stop();
  }
});

/** Polls until `cond` holds; fails naming `what` after a generous limit. */
async function until(what: string, cond: () => boolean, limitMs = WAIT_MS): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("the reference client with FORCE_DELAY_MS=120 reports high latency and the server steps down", async () => {
  const srv = await startTestServer(FAST);
  srv.ctx.store.patch({ adaptation: SHORT_HOLDS });
  const env = (name: string) => name === "FORCE_DELAY_MS" ? "120" : undefined;
  const flags = parseClientArgs(["--udp-port", "0", "--channels", "1,2"], env);
  assert.ok(flags !== "help");
  assert.equal(flags.forceDelayMs, 120);
  const lines: string[] = [];
  const client = new ReferenceClient({
    server: srv.url,
    udp: openUdpSource(flags.udpPort, "127.0.0.1"),
    channels: flags.channels,
    forceDelayMs: flags.forceDelayMs,
    qosIntervalMs: 500,
    backoffInitialMs: 50,
    log: (l) => lines.push(l),
  }).start();
  try {
    await until(
      "a config_changed event at the client",
      () => lines.some((l) => l.startsWith("[WS] event config_changed")),
    );
    const line = lines.find((l) => l.startsWith("[WS] event config_changed"))!;
    const payload = JSON.parse(line.slice("[WS] event config_changed ".length));
    assert.equal(payload.new_sample_rate, 44100, line);
    assert.match(payload.reason, /^latency too high, lowering sample rate/);
    const reported = lines.filter((l) => l.startsWith("[QoS]"));
    assert.ok(reported.length >= 2, "stepped on the client's own reports");
    assert.ok(activeRate(srv) <= 44100);
    // The client reconnects and streams at the lowered rate.
    await until(
      "a session at a lowered rate",
      () => client.ack !== null && client.ack.sample_rate <= 44100 && client.reconnects >= 1,
    );
  } finally {
    await client.stop();
    await srv.stop();
  }
});

Deno.test("one client's high latency lowers only its own rate: the others keep their session and rate, SQLite stays", async () => {
  const srv = await startTestServer(FAST);
  srv.ctx.store.patch({ adaptation: SHORT_HOLDS });
  const good = [
    await Probe.streaming(srv.url, { channels: [{ id: 1 }] }),
    await Probe.streaming(srv.url, { channels: [{ id: 1 }] }),
  ];
  // The suffering one: the reference client, every datagram held 120 ms (FORCE_DELAY_MS).
  const lines: string[] = [];
  const client = new ReferenceClient({
    server: srv.url,
    udp: openUdpSource(0, "127.0.0.1"),
    channels: [1, 2],
    forceDelayMs: 120,
    qosIntervalMs: 500,
    backoffInitialMs: 50,
    log: (l) => lines.push(l),
  }).start();
  let done = false;
  const poster = (async () => {
    for (let n = 100; !done; n += 100) {
      for (const g of good) {
        const r = await fetch(`${srv.url}/qos-metrics`, {
          method: "POST",
          body: JSON.stringify(report(g.probe.clientId, n, 5)),
        });
        assert.equal(r.status, 200);
        await r.body?.cancel();
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  })();
  try {
    await until(
      "a config_changed event at the suffering client",
      () => lines.some((l) => l.startsWith("[WS] event config_changed")),
    );
    const line = lines.find((l) => l.startsWith("[WS] event config_changed"))!;
    const payload = JSON.parse(line.slice("[WS] event config_changed ".length));
    assert.equal(payload.new_sample_rate, 44100, line);
    assert.match(payload.reason, /^latency too high, lowering this client's sample rate/);
    // Its next session is given the lower rate, though it asks for the server's rate.
    await until(
      "the suffering client's next session at a lowered rate",
      () => client.ack !== null && client.ack.sample_rate <= 44100 && client.reconnects >= 1,
    );
    assert.equal(activeRate(srv), 48000, "the stored rate stays");
    assert.equal(await metaRate(srv), 48000);
    for (const g of good) {
      assert.equal(g.probe.closeCode, null, "the others' sessions go on");
      const events = g.probe.messages.filter((m) => m.type === "event");
      assert.deepEqual(events, [], "and they are told nothing");
      const seen = g.probe.packets.length;
      await g.probe.waitPackets(seen + 20);
      assert.equal(srv.ctx.sessions.get(g.probe.clientId)?.effective?.sampleRate, 48000);
    }
    assert.ok(
      srv.logs.some((l) =>
        / WARN {2}adaptation lowering a client's sample rate .*to_hz=44100/.test(l)
      ),
      "a warning for the admin page",
    );
    // The admin page's overview: the stored rate, the lowered address; the step in its warnings.
    const st = statusView(srv.ctx);
    assert.equal(st.sample_rate, 48000);
    assert.equal(st.lowered_clients.length, 1);
    assert.equal(st.lowered_clients[0].address, "127.0.0.1");
    assert.ok(st.lowered_clients[0].sample_rate <= 44100);
    assert.ok(st.recent_log.some((l) => l.message === "lowering a client's sample rate"));
  } finally {
    done = true;
    await poster;
    await client.stop();
    for (const g of good) await g.probe.close();
    await srv.stop();
  }
});

Deno.test("30 % seeded loss behind the impairment relay: the client reports exactly the relay's drops and the server steps on them", async () => {
  const srv = await startTestServer(FAST);
  srv.ctx.store.patch({ adaptation: { ...SHORT_HOLDS, latency_ms: 1000 } });
  const impairment = { lossPct: 30, seed: 7 };
  const real = openUdpSource(0, "127.0.0.1");
  const relay = new UdpImpairmentRelay({
    target: { transport: "udp", hostname: "127.0.0.1", port: real.port },
    model: new UniformImpairment(impairment),
    impaired: "to-target",
  });
  const lines: string[] = [];
  const client = new ReferenceClient({
    server: srv.url,
    udp: { port: relay.port, receive: (b) => real.receive(b), close: () => real.close() },
    channels: [1, 2],
    qosIntervalMs: 500,
    backoffInitialMs: 50,
    log: (l) => lines.push(l),
  }).start();
  // The client's counters at the instant the server logs its step (same process), before
  // the step ends the session and a reconnect continues them.
  let atStep: { lost: number; expected: number; received: number } | null = null;
  const write = logConfig.write;
  logConfig.write = (line) => {
    if (!atStep && line.includes("lowering sample rate")) {
      const { lost, expected, received } = client.receiver.seq;
      atStep = { lost, expected, received };
    }
    write(line);
  };
  try {
    await until("a rate step", () => atStep !== null);
  } finally {
    logConfig.write = write;
    await client.stop();
    await relay.close();
    await srv.stop();
  }
  const { lost, expected, received } = atStep!;
  const step = srv.logs.find((l) => l.includes("lowering sample rate"))!;
  assert.match(step, /packet loss too high, lowering sample rate/);
  assert.match(step, /to_hz=44100/);
  // The relay drops what its seed says: replay its decisions over what it received.
  const model = new UniformImpairment(impairment);
  const dropped = Array.from({ length: relay.stats.received }, (_, i) => model.decide(i) === DROP);
  assert.equal(dropped.filter((d) => d).length, relay.stats.dropped);
  // The client's first session spans the server's packets from the first one let through.
  const first = dropped.indexOf(false);
  const inSpan = dropped.slice(first, first + expected).filter((d) => d).length;
  assert.equal(lost, inSpan, `client lost ${lost} of ${expected}, relay dropped ${inSpan}`);
  assert.equal(received + inSpan, expected);
  // The loss the server stepped on is one the client reported for one of its intervals.
  const reports = lines.filter((l) => l.startsWith("[QoS]"))
    .map((l) => /packets=(\d+)\/(\d+)/.exec(l)!.slice(1).map(Number));
  const intervalLoss = reports.slice(1).map(([r, e], i) => {
    const [r0, e0] = reports[i];
    const loss = (e - e0 - (r - r0)) / (e - e0);
    return (Math.round(loss * 10000) / 10000).toFixed(3); // as the decision and its log round it
  });
  const stepped = /loss_rate=([\d.]+)/.exec(step)?.[1] ?? "";
  assert.ok(intervalLoss.includes(stepped), `stepped on ${stepped}, reported ${intervalLoss}`);
  assert.ok(Number(stepped) > LOSS_THRESHOLD);
});

// ---- loss on a real link: a network namespace, a veth pair and nftables ----

const sh = (...cmd: string[]) => runCommand(cmd);

/** Why the namespace test cannot run here (computed at load time), or "" when it can. */
async function netnsUnavailable(): Promise<string> {
  if (Deno.build.os !== "linux") return "not Linux";
  const ns = `m32ad-probe-${Deno.pid}`;
  const add = await sh("ip", "netns", "add", ns);
  if (!add.ok) return `ip netns not permitted: ${add.out.trim()}`;
  try {
    const nft = await sh("ip", "netns", "exec", ns, "nft", "add", "table", "inet", "m32probe");
    if (!nft.ok) return `nftables not usable in a namespace: ${nft.out.trim()}`;
    return "";
  } finally {
    await sh("ip", "netns", "del", ns);
  }
}

const NETNS_SKIP = await netnsUnavailable();
if (NETNS_SKIP) console.error(`adaptation loss test skipped: ${NETNS_SKIP}`);

Deno.test({
  name: "30 % RTP loss on the client's link (nftables in a netns) steps the rate down",
  ignore: NETNS_SKIP !== "",
  async fn() {
    const tag = `${Deno.pid % 10000}`;
    const ns = `m32ad-${tag}`;
    const hostIf = `m32a${tag}`;
    const nsIf = `m32b${tag}`;
    // A /30 from 10.200.0.0/16 that is not in use on this host.
    const used = (await sh("ip", "-4", "addr")).out;
    let net = "";
    for (let i = 0; i < 64 && !net; i++) {
      const c = `10.200.${Math.floor(Math.random() * 256)}.${4 * Math.floor(Math.random() * 63)}`;
      const base = c.split(".").slice(0, 3).join(".") + ".";
      const last = Number(c.split(".")[3]);
      if (!used.includes(base + (last + 1)) && !used.includes(base + (last + 2))) net = c;
    }
    const base = net.split(".").slice(0, 3).join(".");
    const last = Number(net.split(".")[3]);
    const serverIp = `${base}.${last + 1}`;
    const clientIp = `${base}.${last + 2}`;
    let srv: TestServer | null = null;
    let child: Deno.ChildProcess | null = null;
    try {
      for (
        const cmd of [
          ["ip", "netns", "add", ns],
          ["ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf],
          ["ip", "link", "set", nsIf, "netns", ns],
          ["ip", "addr", "add", `${serverIp}/30`, "dev", hostIf],
          ["ip", "link", "set", hostIf, "up"],
          ["ip", "netns", "exec", ns, "ip", "addr", "add", `${clientIp}/30`, "dev", nsIf],
          ["ip", "netns", "exec", ns, "ip", "link", "set", nsIf, "up"],
          ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
        ]
      ) {
        const r = await sh(...cmd);
        assert.ok(r.ok, `${cmd.join(" ")}: ${r.out}`);
      }
      srv = await startTestServer({ hostname: serverIp });
      srv.ctx.store.patch({ adaptation: { ...SHORT_HOLDS, latency_ms: 1000 } });
      // Receiving side: drop 30 % of the RTP datagrams from the server's RTP port.
      const rules = `table inet m32loss {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr ${serverIp} udp sport ${srv.rtpPort} numgen random mod 100 < 30 drop
  }
}`;
      const nftFile = await Deno.makeTempFile({ suffix: ".nft" });
      await Deno.writeTextFile(nftFile, rules);
      const nft = await sh("ip", "netns", "exec", ns, "nft", "-f", nftFile);
      await Deno.remove(nftFile);
      assert.ok(nft.ok, nft.out);

      const main = new URL("../main.ts", import.meta.url).pathname;
      child = new Deno.Command("ip", {
        args: [
          "netns",
          "exec",
          ns,
          Deno.execPath(),
          "run",
          "--allow-all",
          main,
          "client",
          "--server",
          `http://${serverIp}:${srv.httpPort}`,
          "--udp-port",
          "0",
          "--channels",
          "1,2",
          "--duration",
          "60",
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await until(
        "a rate step",
        () => srv!.logs.some((l) => l.includes("lowering sample rate")),
        60_000,
      );
      const line = srv.logs.find((l) => l.includes("lowering sample rate"))!;
      assert.match(line, /to_hz=44100/);
      assert.match(line, /packet loss too high, lowering sample rate/);
      const loss = Number(/loss_rate=([\d.]+)/.exec(line)?.[1]);
      // Kernel random drops cannot be replayed: the exact figures are the seeded test's above.
      assert.ok(loss > LOSS_THRESHOLD, `stepped on loss ${loss} over ${LOSS_THRESHOLD}`);
      assert.ok(activeRate(srv) <= 44100);
    } finally {
      if (child) {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        await child.status;
      }
      if (srv) await srv.stop();
      await sh("ip", "netns", "del", ns);
      await sh("ip", "link", "del", hostIf);
    }
  },
});
