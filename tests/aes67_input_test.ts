/**
 * AES67 input with real peers (docs/protocol.md §13, docs/aes67.md):
 * on a LAN of network namespaces (./helpers/netns.ts), GStreamer's
 * rtpL24pay multicasts from "box A", our server runs as "box B" with
 * `--source aes67`, and a phone (this process) streams from B. SAP
 * announcements are built by hand (RFC 2974) and sent from box A.
 */
import assert from "node:assert/strict";
import { createLan, type Lan, lanUnavailable } from "./helpers/netns.ts";
import { type ServerProcess, spawnServer } from "./helpers/process_server.ts";
import { decodePcm, Probe } from "./helpers/probe.ts";
import { sapPacket, streamSdp } from "../src/aes67/sap_test_packets.ts";

async function missingTool(name: string): Promise<string | null> {
  const r = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).output();
  return r.success ? null : `${name} is not installed: run \`bash .ci/setup test\``;
}

const unavailable = lanUnavailable() ?? await missingTool("gst-launch-1.0");
const GROUP1 = "239.69.214.1";
const GROUP2 = "239.69.214.2";
const HTTP_PORT = 18214;
const ADMIN_PASSWORD = "aes67-input-test";

/** One second of the `id` test signal, `channels` channels of L24 from `first`: sample = id. */
async function idFile(dir: string, first: number, channels: number): Promise<string> {
  const frames = 48000;
  const b = new Uint8Array(frames * channels * 3);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) b[(f * channels + c) * 3 + 2] = first + c;
  }
  const path = `${dir}/id${first}.raw`;
  await Deno.writeFile(path, b);
  return path;
}

/** One second of a ramp: every channel of frame f carries f (0–47999), so the instant is in every sample. */
async function rampFile(dir: string, name: string, channels: number): Promise<string> {
  const frames = 48000;
  const b = new Uint8Array(frames * channels * 3);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      const o = (f * channels + c) * 3;
      b[o] = f >> 16;
      b[o + 1] = (f >> 8) & 0xff;
      b[o + 2] = f & 0xff;
    }
  }
  const path = `${dir}/${name}.raw`;
  await Deno.writeFile(path, b);
  return path;
}

/** GStreamer in box A: one branch per stream, RTP timestamps from 0 on both (one media clock). */
function gstSender(lan: Lan, streams: { file: string; group: string; channels: number }[]) {
  const args = ["-q"];
  for (const s of streams) {
    args.push(
      "multifilesrc",
      `location=${s.file}`,
      "loop=true",
      "!",
      "rawaudioparse",
      "use-sink-caps=false",
      "format=pcm",
      "pcm-format=s24be",
      "sample-rate=48000",
      `num-channels=${s.channels}`,
      "!",
      "rtpL24pay",
      "pt=96",
      "min-ptime=1000000",
      "max-ptime=1000000",
      "timestamp-offset=0",
      "!",
      "udpsink",
      `host=${s.group}`,
      "port=5004",
      "auto-multicast=true",
      "ttl-mc=15",
      "sync=true",
    );
  }
  return lan.command(0, "gst-launch-1.0", args, { stdout: "null", stderr: "piped" }).spawn();
}

function sdpFile(lan: Lan, streams: { group: string; channels: number }[]): string {
  const lines = [
    "v=0",
    `o=- 4242 1 IN IP4 ${lan.boxes[0].address}`,
    "s=gstreamer box A",
    "t=0 0",
  ];
  for (const s of streams) {
    lines.push(
      `m=audio 5004 RTP/AVP 96`,
      `c=IN IP4 ${s.group}/15`,
      `a=rtpmap:96 L24/48000/${s.channels}`,
      "a=ptime:1",
      "a=mediaclk:direct=0",
    );
  }
  return lines.join("\r\n") + "\r\n";
}

async function startB(
  lan: Lan,
  session: string,
  source = ["--source", "aes67", "--aes67-session", session],
): Promise<ServerProcess> {
  const dir = await Deno.makeTempDir({ prefix: "m32-box-b-" });
  const srv = await spawnServer({
    prefix: ["ip", "netns", "exec", lan.boxes[1].ns],
    args: [
      "serve",
      ...source,
      "--http-port",
      String(HTTP_PORT),
      "--heartbeat-timeout",
      "30",
      // A database of its own (with this test's admin password).
      "--data-dir",
      `${dir}/data`,
    ],
    env: { M32_ADMIN_PASSWORD: ADMIN_PASSWORD },
    dir,
  });
  await srv.ready;
  return srv;
}

async function stopB(srv: ServerProcess | null): Promise<void> {
  if (!srv) return;
  await srv.cleanup();
  await Deno.remove(srv.dir, { recursive: true }).catch(() => {});
}

async function health(base: string): Promise<Record<string, unknown>> {
  return await (await fetch(`${base}/health`)).json();
}

async function waitHealth(
  base: string,
  pred: (h: Record<string, unknown>) => boolean,
  what: string,
  timeoutMs = 15000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let h: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    h = await health(base);
    if (pred(h)) return h;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(h)}`);
}

/** A phone of B: WebSocket, UDP on the LAN, channels `ids` in L24. */
async function phone(lan: Lan, base: string, ids: number[]): Promise<Probe> {
  const p = await Probe.connect(base);
  p.openUdp(lan.hostAddress);
  const r = await p.requestAudio();
  assert.equal(r.status, 200, await r.clone().text());
  await r.body?.cancel();
  p.send({ type: "client_config", payload: { channels: ids.map((id) => ({ id })) } });
  await p.next("client_config_ack");
  return p;
}

/** Every sample of every packet after `from` is its channel's id; returns the frames checked. */
function assertIds(p: Probe, ids: number[], from = 0): number {
  let frames = 0;
  for (const pkt of p.packets.slice(from)) {
    for (const fr of decodePcm(pkt, ids.length, 3)) {
      assert.deepEqual(fr, ids, `packet seq ${pkt.info.sequence}`);
      frames++;
    }
  }
  return frames;
}

/**
 * Several streams from GStreamer (independent branch threads): every frame
 * has each stream's channels either exactly their ids or silent (a piece that
 * came later than the wait), never anything else; `minExact` of them exact.
 */
function assertIdsOrSilent(p: Probe, ids: number[], streamOf: number[], minExact: number): number {
  let frames = 0;
  let exact = 0;
  for (const pkt of p.packets) {
    for (const fr of decodePcm(pkt, ids.length, 3)) {
      frames++;
      if (fr.every((v, i) => v === ids[i])) {
        exact++;
        continue;
      }
      for (const stream of new Set(streamOf)) {
        const got = fr.filter((_, i) => streamOf[i] === stream);
        const want = ids.filter((_, i) => streamOf[i] === stream);
        const ok = got.every((v, i) => v === want[i]) || got.every((v) => v === 0);
        assert.ok(ok, `packet seq ${pkt.info.sequence}: stream ${stream} has ${got}`);
      }
    }
  }
  assert.ok(exact >= frames * minExact, `${exact} of ${frames} frames exact`);
  return frames;
}

/** Phone receive time − capture time (ms) of the packets from `from` on, from the capture-time extension. */
function latencies(p: Probe, from = 0): number[] {
  const withExt = p.packets.find((k) => k.info.captureTimeMs >= 0);
  if (!withExt) return [];
  const out: number[] = [];
  for (const k of p.packets.slice(from)) {
    const dt = (((k.info.timestamp - withExt.info.timestamp) | 0) * 1000) / 48000;
    out.push(performance.timeOrigin + k.at - (withExt.info.captureTimeMs + dt));
  }
  return out.sort((a, b) => a - b);
}

const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

Deno.test({
  name:
    "GStreamer multicasts L24 from box A; a phone of box B gets the id signal with every sample exact, and a vanished sender is a fault that heals",
  ignore: unavailable !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lan = await createLan(2);
    const dir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
    let gst: Deno.ChildProcess | null = null;
    let srv: ServerProcess | null = null;
    let probe: Probe | null = null;
    try {
      // One stream: two GStreamer branches drift apart by up to ~90 ms on a loaded host
      // (docs/aes67.md); several streams are checked below with that allowed for.
      const streams = [{ file: await idFile(dir, 1, 4), group: GROUP1, channels: 4 }];
      gst = gstSender(lan, streams);
      await Deno.writeTextFile(`${dir}/a.sdp`, sdpFile(lan, streams));
      srv = await startB(lan, `${dir}/a.sdp`);
      // B's own RTP port is the streams' port: the receiver shares it (src/aes67/multicast_socket.ts).
      assert.equal((await srv.ready).rtpPort, 5004);
      const base = `http://${lan.boxes[1].address}:${HTTP_PORT}`;
      const idle = await health(base);
      assert.equal(idle.source, "aes67");
      const ids = [1, 2, 3, 4];
      probe = await phone(lan, base, ids);
      const running = await waitHealth(base, (h) => h.source_state === "running", "running");
      assert.equal(running.source, "aes67");
      // 4 channels of L24 at 5 ms exceed a 1400-byte datagram: 3 packets of 80 frames a period.
      await probe.waitPackets(1600, 15000);
      let frames = 0;
      try {
        frames = assertIds(probe, ids);
      } catch (e) {
        const bad = probe.packets.findIndex((k) =>
          decodePcm(k, ids.length, 3).some((f) => f.join() !== ids.join())
        );
        throw new Error(
          `packet ${bad} of ${probe.packets.length}: ${(e as Error).message}\n${srv.output()}`,
        );
      }
      assert.ok(frames >= 1600 * 80, `${frames} frames`);
      console.log(`AES67 in (GStreamer → B → phone): ${frames} frames, every sample exact`);

      // The sender vanishes: a device fault (§3), retried; it returns: audio again, exact.
      gst.kill("SIGKILL");
      await gst.status;
      gst = null;
      const err = await waitHealth(base, (h) => h.source_state === "error", "error");
      assert.match(String(err.source_error), /delivered no(thing| audio)/);
      assert.equal(err.status, "degraded");
      gst = gstSender(lan, streams);
      await waitHealth(base, (h) => h.source_state === "running", "running again", 20000);
      const before = probe.packets.length;
      await probe.waitPackets(before + 800, 15000);
      // Packets around the gap may hold silence; those well after it are exact.
      assert.ok(assertIds(probe, ids, before + 200) >= 600 * 80);
    } finally {
      await probe?.close();
      if (gst) {
        gst.kill("SIGKILL");
        await gst.status;
      }
      await stopB(srv);
      await lan.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "ffmpeg multicasts 8 channels of L24 from box A with its own SDP file; a phone of box B gets every sample exact",
  ignore: unavailable !== null || await missingTool("ffmpeg") !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lan = await createLan(2);
    const dir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
    let ff: Deno.ChildProcess | null = null;
    let srv: ServerProcess | null = null;
    let probe: Probe | null = null;
    try {
      const file = await idFile(dir, 1, 8);
      ff = lan.command(0, "ffmpeg", [
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-stream_loop",
        "-1",
        "-f",
        "s24be",
        "-ar",
        "48000",
        "-ac",
        "8",
        "-i",
        file,
        "-acodec",
        "pcm_s24be",
        "-f",
        "rtp",
        "-sdp_file",
        `${dir}/ffmpeg.sdp`,
        `rtp://${GROUP1}:5004?ttl=15&pkt_size=1200`,
      ], { stdout: "null", stderr: "piped" }).spawn();
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline) {
        const text = await Deno.readTextFile(`${dir}/ffmpeg.sdp`).catch(() => "");
        if (text.includes("rtpmap")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // ffmpeg's SDP: no ptime, no mediaclk, PT 97, "s=No Name".
      assert.match(await Deno.readTextFile(`${dir}/ffmpeg.sdp`), /a=rtpmap:97 L24\/48000\/8/);
      srv = await startB(lan, `${dir}/ffmpeg.sdp`);
      const base = `http://${lan.boxes[1].address}:${HTTP_PORT}`;
      const ids = [1, 2, 3, 4, 5, 6, 7, 8];
      probe = await phone(lan, base, ids);
      await waitHealth(base, (h) => h.source_state === "running", "running");
      await probe.waitPackets(1000, 15000);
      const frames = assertIds(probe, ids);
      assert.ok(frames >= 1000 * 40, `${frames} frames`);
    } finally {
      await probe?.close();
      if (ff) {
        ff.kill("SIGKILL");
        await ff.status;
      }
      await stopB(srv);
      await lan.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "two GStreamer streams on one media clock line up sample-exactly at a phone of box B (channel 5 = channel 1, frame by frame)",
  ignore: unavailable !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lan = await createLan(2);
    const dir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
    let gst: Deno.ChildProcess | null = null;
    let srv: ServerProcess | null = null;
    let probe: Probe | null = null;
    try {
      // Both payloaders start their RTP timestamps at 0 at the same instant (mediaclk:direct=0).
      const streams = [
        { file: await rampFile(dir, "r4", 4), group: GROUP1, channels: 4 },
        { file: await rampFile(dir, "r2", 2), group: GROUP2, channels: 2 },
      ];
      gst = gstSender(lan, streams);
      await Deno.writeTextFile(`${dir}/a.sdp`, sdpFile(lan, streams));
      srv = await startB(lan, `${dir}/a.sdp`);
      const base = `http://${lan.boxes[1].address}:${HTTP_PORT}`;
      probe = await phone(lan, base, [1, 5]);
      await waitHealth(base, (h) => h.source_state === "running", "running");
      await probe.waitPackets(400, 15000);
      let frames = 0;
      let both = 0;
      let steps = 0;
      let prev = -1;
      for (const pkt of probe.packets) {
        for (const [a, b] of decodePcm(pkt, 2, 3)) {
          frames++;
          if (prev >= 0 && a === (prev + 1) % 48000) steps++;
          prev = a;
          // A piece that came too late is silent (a busy host); one that plays is never shifted.
          if (a === 0 || b === 0) continue;
          assert.equal(b, a, `packet seq ${pkt.info.sequence}: stream 2 is ${b - a} frames off`);
          both++;
        }
      }
      console.log(`aligned: ${both} of ${frames} frames with both streams playing, all equal`);
      assert.ok(frames >= 400 * 120, `${frames} frames`);
      assert.ok(both >= frames * 0.95, `${both} of ${frames} frames with both streams`);
      // The ramp advances one per frame: the samples are the sender's, in order.
      assert.ok(steps >= frames * 0.9, `${steps} of ${frames} frames follow their predecessor`);
    } finally {
      await probe?.close();
      if (gst) {
        gst.kill("SIGKILL");
        await gst.status;
      }
      await stopB(srv);
      await lan.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

for (const clock of ["utc", "tai"] as const) {
  Deno.test({
    name:
      `a sender whose RTP timestamps follow the ${clock.toUpperCase()} clock: phones of box B measure latency from the sender's capture instant`,
    ignore: unavailable !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const lan = await createLan(2);
      const dir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
      let tx: Deno.ChildProcess | null = null;
      let srv: ServerProcess | null = null;
      let probe: Probe | null = null;
      const AGE_MS = 300;
      try {
        // Stamped 300 ms before sending: read from the media clock, latency is ≥ 300 ms; an
        // arrival-based estimate would say a few ms.
        tx = lan.command(0, Deno.execPath(), [
          "run",
          "-A",
          "--unstable-net",
          new URL("./helpers/aes67_rtp_sender.ts", import.meta.url).pathname,
          GROUP1,
          "5004",
          "8",
          "1",
          "--age-ms",
          String(AGE_MS),
          ...(clock === "tai" ? ["--tai"] : []),
        ], { stdout: "null", stderr: "piped" }).spawn();
        await Deno.writeTextFile(`${dir}/a.sdp`, sdpFile(lan, [{ group: GROUP1, channels: 8 }]));
        srv = await startB(lan, `${dir}/a.sdp`);
        const base = `http://${lan.boxes[1].address}:${HTTP_PORT}`;
        const ids = [1, 2, 3, 4, 5, 6, 7, 8];
        probe = await phone(lan, base, ids);
        await waitHealth(base, (h) => h.source_state === "running", "running");
        await probe.waitPackets(1600, 15000);
        assert.ok(assertIds(probe, ids) >= 1600 * 40);
        // The second half: start-up (the first phone packets, the sender's first burst) left out.
        const lat = latencies(probe, 800);
        const added = lat.map((x) => x - AGE_MS);
        console.log(
          `${clock}: sender's capture → B's phone, minus the sender's ${AGE_MS} ms: ` +
            `p50 ${pct(added, 0.5).toFixed(2)} ms p99 ${
              pct(added, 0.99).toFixed(2)
            } ms (n ${added.length})`,
        );
        assert.ok(pct(lat, 0.5) >= AGE_MS, `p50 ${pct(lat, 0.5)} ms: not from the media clock`);
        // Not a timing budget: the wrong clock reading is off by seconds (TAI − UTC is 37 s, an
        // RTP timestamp taken for the other epoch by far more), a loaded host by well under one.
        assert.ok(pct(lat, 0.5) < AGE_MS + 5000, `p50 ${pct(lat, 0.5)} ms: the wrong epoch`);
        assert.match(srv.output(), new RegExp(`the media clock \\(${clock.toUpperCase()}\\)`));
      } finally {
        await probe?.close();
        if (tx) {
          tx.kill("SIGKILL");
          await tx.status;
        }
        await stopB(srv);
        await lan.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name:
    "the admin turns the AES67 input on (aes67.input): the source switches under a streaming phone, and back",
  ignore: unavailable !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lan = await createLan(2);
    const dir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
    let tx: Deno.ChildProcess | null = null;
    let srv: ServerProcess | null = null;
    let probe: Probe | null = null;
    try {
      // The sender's channel c carries 10 + c, so it is told apart from the test signal's c.
      tx = lan.command(0, Deno.execPath(), [
        "run",
        "-A",
        "--unstable-net",
        new URL("./helpers/aes67_rtp_sender.ts", import.meta.url).pathname,
        GROUP1,
        "5004",
        "8",
        "11",
      ], { stdout: "null", stderr: "piped" }).spawn();
      await Deno.writeTextFile(`${dir}/a.sdp`, sdpFile(lan, [{ group: GROUP1, channels: 8 }]));
      srv = await startB(lan, "", ["--source", "test"]);
      const base = `http://${lan.boxes[1].address}:${HTTP_PORT}`;
      const api = await loginApi(base);
      probe = await phone(lan, base, [1, 2]);
      const seen = async (want: number[], what: string) => {
        await probe!.until(what, () => {
          const last = probe!.packets.at(-1);
          return last && decodePcm(last, 2, 3)[0].join() === want.join();
        }, 15000);
      };
      await seen([1, 2], "the test signal");
      await api("PATCH", "/api/admin/config", {
        aes67: { input: { enabled: true, session: `${dir}/a.sdp` } },
      });
      await seen([11, 12], "the AES67 input");
      const h = await health(base);
      assert.equal(h.source, "aes67");
      assert.equal(h.source_state, "running");
      await api("PATCH", "/api/admin/config", { aes67: { input: { enabled: false } } });
      await seen([1, 2], "the test signal again");
      // One session throughout: a source switch ends no phone session.
      assert.equal(probe.closeCode, null);
      assert.equal(probe.messages.filter((m) => m.type === "config_changed").length, 0);
    } finally {
      await probe?.close();
      if (tx) {
        tx.kill("SIGKILL");
        await tx.status;
      }
      await stopB(srv);
      await lan.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Sends SAP packets from box A (a small script in its namespace), every 200 ms. */
function sapSender(lan: Lan, packets: Uint8Array[], deletions: Uint8Array[] = []) {
  const code = `
    const pk = ${JSON.stringify(packets.map((p) => Array.from(p)))}.map((a) => new Uint8Array(a));
    const del = ${
    JSON.stringify(deletions.map((p) => Array.from(p)))
  }.map((a) => new Uint8Array(a));
    const s = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
    const to = { transport: "udp", hostname: "239.255.255.255", port: 9875 };
    let stop = false;
    Deno.addSignalListener("SIGTERM", async () => {
      stop = true;
      for (const p of del) await s.send(p, to);
      Deno.exit(0);
    });
    while (!stop) {
      for (const p of pk) await s.send(p, to);
      await new Promise((r) => setTimeout(r, 200));
    }`;
  return lan.command(0, Deno.execPath(), ["eval", "--unstable-net", code], {
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** An admin API caller for `base` (logged in). */
async function loginApi(base: string) {
  const cookie = await login(base);
  return async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { cookie, "content-type": "application/json", origin: base },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  };
}

async function login(base: string): Promise<string> {
  const r = await fetch(`${base}/api/admin/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ password: ADMIN_PASSWORD }),
  });
  assert.equal(r.status, 200);
  await r.body?.cancel();
  return r.headers.get("set-cookie")!.split(";")[0];
}

Deno.test({
  name:
    "SAP: box B lists the sessions box A announces, takes a sender by name (its streams in order) and forgets a deleted one",
  ignore: unavailable !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lan = await createLan(2);
    const dir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
    let gst: Deno.ChildProcess | null = null;
    let sap: Deno.ChildProcess | null = null;
    let srv: ServerProcess | null = null;
    let probe: Probe | null = null;
    try {
      const a = lan.boxes[0].address;
      const s1 = streamSdp({
        name: "stage 1",
        sessionId: 71,
        origin: a,
        group: GROUP1,
        channels: 4,
        labels: ["Kick", "Snare", "Bass", "Vox"],
      });
      const s2 = streamSdp({
        name: "stage 2",
        sessionId: 72,
        origin: a,
        group: GROUP2,
        channels: 2,
      });
      const src = a.split(".").map(Number) as [number, number, number, number];
      sap = sapSender(
        lan,
        [
          sapPacket(s2, { source: src, msgIdHash: 2 }),
          sapPacket(s1, { source: src, msgIdHash: 1, payloadType: true }),
        ],
        [sapPacket(`v=0\r\no=- 71 1 IN IP4 ${a}\r\n`, {
          source: src,
          msgIdHash: 1,
          deletion: true,
        })],
      );
      gst = gstSender(lan, [
        { file: await idFile(dir, 1, 4), group: GROUP1, channels: 4 },
        { file: await idFile(dir, 5, 2), group: GROUP2, channels: 2 },
      ]);
      srv = await startB(lan, "stage");
      const base = `http://${lan.boxes[1].address}:${HTTP_PORT}`;
      const anon = await fetch(`${base}/api/admin/aes67/sessions`);
      assert.equal(anon.status, 401);
      await anon.body?.cancel();
      const cookie = await login(base);
      const list = async () =>
        await (await fetch(`${base}/api/admin/aes67/sessions`, { headers: { cookie } })).json();
      const deadline = Date.now() + 10000;
      let heard = await list();
      while (heard.sessions.length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        heard = await list();
      }
      assert.equal(heard.listening, true);
      assert.deepEqual(
        heard.sessions.map((
          s: Record<string, unknown>,
        ) => [s.name, s.origin, s.groups, s.channels, s.ptime_ms, s.clock]),
        [
          ["stage 1", a, [GROUP1], 4, 1, "localmac=02-00-00-00-00-01"],
          ["stage 2", a, [GROUP2], 2, 1, "localmac=02-00-00-00-00-01"],
        ],
      );
      assert.deepEqual(heard.sessions[0].labels, ["Kick", "Snare", "Bass", "Vox"]);
      assert.ok(Date.parse(heard.sessions[0].last_heard) > Date.now() - 10000);

      // "stage" names the sender: stage 1's channels are 1–4, stage 2's 5–6.
      const ids = [1, 3, 4, 5, 6];
      probe = await phone(lan, base, ids);
      await waitHealth(base, (h) => h.source_state === "running", "running");
      await probe.waitPackets(800, 15000);
      assert.ok(assertIdsOrSilent(probe, ids, [1, 1, 1, 2, 2], 0.95) >= 800 * 60);

      // The sender says goodbye to stage 1: it leaves the list.
      sap.kill("SIGTERM");
      await sap.status;
      sap = null;
      const until = Date.now() + 5000;
      while ((await list()).sessions.length !== 1 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual((await list()).sessions.map((s: { name: string }) => s.name), ["stage 2"]);
    } finally {
      await probe?.close();
      for (const c of [gst, sap]) {
        if (c) {
          c.kill("SIGKILL");
          await c.status;
        }
      }
      await stopB(srv);
      await lan.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
