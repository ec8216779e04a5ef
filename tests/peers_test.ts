/**
 * Real peers: ffmpeg plays our stream from the SDP we serve, and tcpdump sees
 * the DSCP marking on the wire.
 */
import assert from "node:assert/strict";
import { Probe } from "./helpers/probe.ts";
import { startTestServer } from "./helpers/server.ts";
import { tonePower } from "./helpers/tone_power.ts";
import { TONE_AMPLITUDE } from "../src/audio/test_signal.ts";

function freeEvenUdpPort(): number {
  for (;;) {
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const port = (s.addr as Deno.NetAddr).port;
    s.close();
    if (port % 2 === 0 && port < 65000) return port;
  }
}

async function requireTool(name: string): Promise<void> {
  const r = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).output();
  if (!r.success) throw new Error(`${name} is not installed: run \`bash .ci/setup test\``);
}

Deno.test("ffmpeg decodes the stream from the served SDP with the channel ids as sample values", async () => {
  await requireTool("ffmpeg");
  const srv = await startTestServer();
  const dir = await Deno.makeTempDir();
  try {
    const p = await Probe.connect(srv.url);
    p.udpPort = freeEvenUdpPort();
    const req = await (await p.requestAudio()).json();
    p.send({ type: "client_config", payload: { channels: [{ id: 3 }, { id: 8 }, { id: 30 }] } });
    const ack = (await p.next("client_config_ack")).payload as Record<string, string>;
    assert.match(req.sdp, /m=audio \d+ RTP\/AVP 96/);
    await Deno.writeTextFile(`${dir}/s.sdp`, ack.sdp);
    const out = await new Deno.Command("ffmpeg", {
      args: [
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file,udp,rtp",
        "-i",
        `${dir}/s.sdp`,
        "-t",
        "0.5",
        "-f",
        "s32le",
        "-acodec",
        "pcm_s32le",
        "-y",
        `${dir}/out.raw`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const raw = await Deno.readFile(`${dir}/out.raw`);
    const s = new Int32Array(raw.buffer, 0, raw.length / 4);
    assert.ok(s.length >= 3 * 48000 * 0.4, `${s.length} samples`);
    for (let i = 0; i < s.length; i += 3) {
      // ffmpeg widens L24 to s32 (<< 8): the wire value is the channel id
      assert.deepEqual([s[i] >> 8, s[i + 1] >> 8, s[i + 2] >> 8], [3, 8, 30], `frame ${i / 3}`);
    }
    await p.close();
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ffmpeg plays a 1-channel Opus session from the ack's SDP (opus/48000/2, RFC 7587) as its tone", async () => {
  await requireTool("ffmpeg");
  const srv = await startTestServer();
  const dir = await Deno.makeTempDir();
  try {
    srv.ctx.store.patch({ audio: { test_mode: "tone" } });
    const p = await Probe.connect(srv.url);
    p.udpPort = freeEvenUdpPort();
    await (await p.requestAudio()).json();
    p.send({ type: "client_config", payload: { channels: [{ id: 5 }], compression: "opus" } });
    const ack = (await p.next("client_config_ack")).payload as Record<string, string>;
    assert.equal(ack.encoding, "opus");
    await Deno.writeTextFile(`${dir}/s.sdp`, ack.sdp);
    const out = await new Deno.Command("ffmpeg", {
      args: [
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file,udp,rtp",
        "-i",
        `${dir}/s.sdp`,
        "-t",
        "1",
        "-ac",
        "1",
        "-ar",
        "48000",
        "-f",
        "f32le",
        "-y",
        `${dir}/out.raw`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, ack.sdp + new TextDecoder().decode(out.stderr));
    const raw = await Deno.readFile(`${dir}/out.raw`);
    const x = new Float32Array(raw.buffer, 0, raw.length / 4);
    assert.ok(x.length >= 48000 * 0.8, `${x.length} samples`);
    // Channel 5's tone is 500 Hz at −20 dBFS; nothing at 700 Hz.
    const at500 = tonePower(x, 1, 0, 4800, 500, 48000);
    const at700 = tonePower(x, 1, 0, 4800, 700, 48000);
    assert.ok(at500 > 0.25 * TONE_AMPLITUDE ** 2, `500 Hz power ${at500}`);
    assert.ok(at700 < 0.01 * at500, `700 Hz power ${at700}`);
    await p.close();
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tcpdump sees every RTP packet from the server marked TOS 0xb8 (DSCP EF 46)", async () => {
  await requireTool("tcpdump");
  const srv = await startTestServer();
  try {
    const p = await Probe.connect(srv.url);
    p.openUdp();
    const dump = new Deno.Command("tcpdump", {
      args: [
        "-i",
        "lo",
        "-n",
        "-v",
        "-l",
        "-c",
        "20",
        "udp",
        "and",
        "dst",
        "port",
        String(p.udpPort),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await new Promise((r) => setTimeout(r, 700)); // let tcpdump attach
    await p.requestAudio();
    p.send({ type: "client_config", payload: { channels: [{ id: 1 }] } });
    const timer = setTimeout(() => dump.kill(), 10000);
    const out = await dump.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(out.stdout);
    const lines = text.split("\n").filter((l) => l.includes("proto UDP"));
    assert.ok(lines.length >= 20, text + new TextDecoder().decode(out.stderr));
    for (const l of lines) assert.match(l, /tos 0xb8/);
    assert.match(
      text,
      new RegExp(`\\.${srv.rtpPort} > 127\\.0\\.0\\.1\\.${p.udpPort}`),
      "from the RTP port",
    );
    await p.close();
  } finally {
    await srv.stop();
  }
});
