/**
 * RTCP with a real peer: GStreamer 1.22's rtpbin receives our stream, reads our
 * sender reports and sends its receiver reports to the server's RTCP port; the
 * admin client list shows them (loss, jitter, and a round trip, which needs
 * rtpbin to have echoed one of our SRs in LSR/DLSR). Its RFC 3550 jitter on
 * loopback shows how evenly a packet time is split (docs/protocol.md §5).
 */
import assert from "node:assert/strict";
import { call, login, PASSWORD } from "./admin_helpers.ts";
import { Probe } from "./helpers/probe.ts";
import { startTestServer } from "./helpers/server.ts";
import { parseRtcp } from "../src/rtp/rtcp.ts";

async function requireTool(name: string): Promise<void> {
  const r = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).output();
  if (!r.success) throw new Error(`${name} is not installed: run \`bash .ci/setup test\``);
}

/** An even UDP port whose successor is free too (RTP, RTCP = RTP + 1). */
function freePortPair(): number {
  for (;;) {
    const a = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const port = (a.addr as Deno.NetAddr).port;
    if (port % 2 === 0 && port < 65000) {
      try {
        Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: port + 1 }).close();
        a.close();
        return port;
      } catch { /* taken */ }
    }
    a.close();
  }
}

interface RtcpRow {
  reports: number;
  fraction_lost: number;
  cumulative_lost: number;
  jitter_ms: number;
  round_trip_ms: number | null;
}

Deno.test("GStreamer rtpbin reads our SRs and its receiver reports show in the admin client list; an even split halves its jitter", async () => {
  await requireTool("gst-launch-1.0");
  const srv = await startTestServer({ adminPassword: PASSWORD });
  const port = freePortPair();
  const channels = 2;
  const caps =
    `application/x-rtp,media=audio,clock-rate=48000,encoding-name=L24,channels=${channels},payload=96`;
  const gst = new Deno.Command("gst-launch-1.0", {
    args: [
      "-q",
      "rtpbin",
      "name=rb",
      "latency=100",
      "udpsrc",
      "address=127.0.0.1",
      `port=${port}`,
      `caps=${caps}`,
      "!",
      "rb.recv_rtp_sink_0",
      "udpsrc",
      "address=127.0.0.1",
      `port=${port + 1}`,
      "!",
      "rb.recv_rtcp_sink_0",
      "rb.send_rtcp_src_0",
      "!",
      "udpsink",
      "host=127.0.0.1",
      `port=${srv.rtpPort + 1}`,
      "sync=false",
      "async=false",
      "rb.",
      "!",
      "rtpL24depay",
      "!",
      "fakesink",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await new Promise((r) => setTimeout(r, 500)); // let its sockets bind
    const p = await Probe.connect(srv.url);
    p.udpPort = port;
    await p.requestAudio();
    p.send({ type: "client_config", payload: { channels: [{ id: 1 }, { id: 2 }] } });
    await p.next("client_config_ack");
    const cookie = await login(srv.url);
    let row: RtcpRow | null = null;
    const deadline = Date.now() + 30_000;
    // Wait for a report that echoes an SR (round trip known) and has seen a few seconds.
    while (Date.now() < deadline) {
      const clients = (await call(srv.url, "GET", "/api/admin/clients", { cookie })).body as {
        rtcp: RtcpRow | null;
      }[];
      const r = clients[0]?.rtcp;
      if (r && r.round_trip_ms !== null && r.reports >= 2) {
        row = r;
        break;
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(row, "rtpbin's receiver reports, echoing our SRs, reach the admin client list");
    console.log(`rtpbin RR: ${JSON.stringify(row)} (load ${Deno.loadavg()[0].toFixed(2)})`);
    // rtpbin counts from its probation packets and may report −1 (RFC 3550 allows negatives).
    assert.ok(row.cumulative_lost <= 0, `nothing lost on loopback: ${row.cumulative_lost}`);
    assert.equal(row.fraction_lost, 0);
    assert.ok(row.round_trip_ms! < 1000, `round trip ${row.round_trip_ms} ms`);
    // 240 frames of 2 × L24 do not fit one 1400-byte datagram. Both packets of a packet time
    // leave together, so RFC 3550 jitter is the mean |timestamp step − arrival step|:
    // 228 + 12 frames → 4.75 ms (rtpbin said 4.67), 120 + 120 → 2.5 ms (rtpbin: 2.25).
    // The threshold sits between the two structures; scheduling noise adds far less.
    assert.ok(row.jitter_ms < 3.6, `RFC 3550 jitter ${row.jitter_ms} ms`);
    await p.close();
  } finally {
    try {
      gst.kill();
    } catch { /* exited */ }
    await gst.status;
    await srv.stop();
  }
});

Deno.test("tshark decodes our RTCP as SR + SDES CNAME, then SR + SDES + BYE when the session ends", async () => {
  await requireTool("tshark");
  await requireTool("tcpdump");
  const srv = await startTestServer();
  const port = freePortPair();
  const dir = await Deno.makeTempDir();
  const pcap = `${dir}/rtcp.pcap`;
  const sink = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: port + 1 });
  const rtp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  const dump = new Deno.Command("tcpdump", {
    args: [
      "-i",
      "lo",
      "-n",
      "-U",
      "--immediate-mode",
      "-w",
      pcap,
      "udp",
      "and",
      "dst",
      "port",
      String(port + 1),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await new Promise((r) => setTimeout(r, 700)); // let tcpdump attach
    const p = await Probe.connect(srv.url);
    p.udpPort = port;
    await p.requestAudio();
    p.send({ type: "client_config", payload: { channels: [{ id: 9 }] } });
    const ack = (await p.next("client_config_ack")).payload as { ssrc: number };
    await new Promise((r) => setTimeout(r, 500));
    await p.close(); // the session ends: BYE
    const buf = new Uint8Array(1500);
    const end = Date.now() + 10_000;
    for (let bye = false; !bye && Date.now() < end;) {
      const [d] = await sink.receive(buf);
      bye = parseRtcp(d)?.some((x) => x.type === "bye") ?? false;
    }
    await new Promise((r) => setTimeout(r, 300)); // tcpdump writes it out (--immediate-mode -U)
    dump.kill("SIGINT");
    await dump.output();
    const out = await new Deno.Command("tshark", {
      args: [
        "-r",
        pcap,
        "-d",
        `udp.port==${port + 1},rtcp`,
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "rtcp.pt",
        "-e",
        "rtcp.senderssrc",
        "-e",
        "rtcp.sdes.text",
        "-e",
        "rtcp.ssrc.identifier",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const lines = text.trim().split("\n").filter((l) => l.length > 0);
    assert.ok(lines.length >= 2, text);
    const hex = `0x${(ack.ssrc >>> 0).toString(16).padStart(8, "0")}`;
    // First: SR (200) + SDES (202) from our SSRC with our CNAME.
    assert.match(lines[0], /^200,202\|/, text);
    assert.ok(lines[0].includes(hex), `${hex} in ${lines[0]}`);
    assert.match(lines[0], /m32-server@/);
    // Last: SR + SDES + BYE (203) naming our SSRC.
    assert.match(lines.at(-1)!, /^200,202,203\|/, text);
    assert.ok(lines.at(-1)!.includes(hex), text);
  } finally {
    try {
      dump.kill();
    } catch { /* exited */ }
    sink.close();
    rtp.close();
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
