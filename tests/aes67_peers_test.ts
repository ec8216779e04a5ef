/**
 * Independent AES67 peers (issue #14 item 4, docs/aes67.md "Checking a box
 * with stock tools"): the server runs in a network namespace of its own (a
 * box of ./helpers/netns.ts's LAN, its default route on `eth0`, so
 * `interface: ""` picks it), with the output on and the test signal's `id`
 * mode; in the same namespace
 *
 *   - GStreamer 1.22 (`udpsrc multicast-group=… ! rtpjitterbuffer ! rtpL24depay`)
 *     decodes stream 1 and every sample of channel n carries n;
 *   - ffmpeg (`-i sap://239.255.255.255:9875`) finds a stream from its SAP
 *     announcement and decodes it exactly;
 *   - tcpdump on `eth0` sees the packets' spacing (printed) and their TOS.
 *   - tshark decodes the stream's RTCP (port 5005): a sender report with SDES CNAME.
 *
 * Needs root (network namespaces); skipped with the reason where not.
 */
import assert from "node:assert/strict";
import { ConfigStore } from "../src/config/store.ts";
import { createLan, namespacesUnavailable } from "./helpers/netns.ts";
import { ROOT } from "./helpers/process_server.ts";

/** Inter-packet gaps (µs) and TOS bytes of IPv4/UDP packets to `group` in a pcap file. */
function pcapPackets(buf: Uint8Array, group: string) {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = v.getUint32(0, true) === 0xa1b2c3d4;
  const linktype = v.getUint32(20, le);
  const linkHeader = linktype === 1 ? 14 : linktype === 113 ? 16 : 0;
  const want = group.split(".").map(Number);
  const times: number[] = [];
  const tos: number[] = [];
  const sizes: number[] = [];
  for (let off = 24; off + 16 <= buf.length;) {
    const sec = v.getUint32(off, le);
    const usec = v.getUint32(off + 4, le);
    const incl = v.getUint32(off + 8, le);
    const ip = off + 16 + linkHeader;
    if (buf[ip] >> 4 === 4 && want.every((b, i) => buf[ip + 16 + i] === b)) {
      times.push(sec * 1e6 + usec);
      tos.push(buf[ip + 1]);
      sizes.push((buf[ip + 2] << 8) | buf[ip + 3]);
    }
    off += 16 + incl;
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  return { gaps, tos, sizes };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Reads GStreamer's S24BE output: frames of `n` channels. */
function s24be(raw: Uint8Array, n: number): number[][] {
  const frames: number[][] = [];
  for (let o = 0; o + 3 * n <= raw.length; o += 3 * n) {
    const f: number[] = [];
    for (let c = 0; c < n; c++) {
      const i = o + 3 * c;
      f.push(((raw[i] << 24) | (raw[i + 1] << 16) | (raw[i + 2] << 8)) >> 8);
    }
    frames.push(f);
  }
  return frames;
}

const reason = await namespacesUnavailable(["gst-launch-1.0", "ffmpeg", "tcpdump", "tshark"]);

Deno.test({
  name:
    "AES67 peers: GStreamer and ffmpeg (from SAP) decode the box's streams exactly; tcpdump sees 1 ms spacing and TOS 34 << 2; tshark reads its RTCP sender report",
  ignore: reason !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
    const lan = await createLan(1, { defaultRoute: true });
    const inNs = (cmd: string[]) => ["ip", "netns", "exec", lan.boxes[0].ns, ...cmd];
    const children: Deno.ChildProcess[] = [];
    const spawn = (cmd: string[]) => {
      const c = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).spawn();
      children.push(c);
      return c;
    };
    try {
      const store = ConfigStore.open(`${dir}/data`);
      store.patch({ aes67: { output: { enabled: true } } });
      store.close();
      // Receivers first: ffmpeg waits for the first SAP announcement, sent when the output starts.
      const pcap = spawn(
        inNs([
          "tcpdump",
          "-i",
          "eth0",
          "-n",
          "-U",
          "-c",
          "1500",
          "-w",
          `${dir}/out.pcap`,
          "dst",
          "239.69.83.1",
          "and",
          "udp",
          "dst",
          "port",
          "5004",
        ]),
      );
      // The stream's RTCP: its first sender report goes with the first packet time.
      const rtcpPcap = spawn(
        inNs([
          "tcpdump",
          "-i",
          "eth0",
          "-n",
          "-U",
          "-c",
          "1",
          "-w",
          `${dir}/rtcp.pcap`,
          "dst",
          "239.69.83.1",
          "and",
          "udp",
          "dst",
          "port",
          "5005",
        ]),
      );
      const gst = spawn(inNs([
        "gst-launch-1.0",
        "-q",
        "udpsrc",
        "multicast-group=239.69.83.1",
        "port=5004",
        "num-buffers=1000",
        "caps=application/x-rtp,media=audio,clock-rate=48000,encoding-name=L24,channels=8,payload=96",
        "!",
        "rtpjitterbuffer",
        "latency=20",
        "!",
        "rtpL24depay",
        "!",
        "filesink",
        `location=${dir}/gst.raw`,
      ]));
      const ffmpeg = spawn(inNs([
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        "sap://239.255.255.255:9875",
        "-t",
        "0.5",
        "-f",
        "s32le",
        "-acodec",
        "pcm_s32le",
        "-y",
        `${dir}/ffmpeg.raw`,
      ]));
      await new Promise((r) => setTimeout(r, 1000));
      const server = spawn(inNs([
        Deno.execPath(),
        "run",
        "--allow-all",
        "--unstable-net",
        `${ROOT}/main.ts`,
        "serve",
        "--source",
        "test",
        "--http-port",
        "18080",
        // The unicast RTP socket binds 0.0.0.0:5004 by default; the receivers here need that port.
        "--rtp-port",
        "15004",
        "--data-dir",
        `${dir}/data`,
      ]));
      const within = <T>(p: Promise<T>, ms: number, what: string) =>
        Promise.race([
          p,
          new Promise<never>((_, rej) =>
            setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)
          ),
        ]);
      const [g, f, t, r] = await within(
        Promise.all([gst.output(), ffmpeg.output(), pcap.output(), rtcpPcap.output()]),
        60_000,
        "GStreamer, ffmpeg and tcpdump",
      );
      const dec = new TextDecoder();
      assert.ok(g.success, `gst-launch: ${dec.decode(g.stderr)}`);
      assert.ok(f.success, `ffmpeg: ${dec.decode(f.stderr)}`);
      assert.ok(t.success, `tcpdump: ${dec.decode(t.stderr)}`);
      assert.ok(r.success, `tcpdump (RTCP): ${dec.decode(r.stderr)}`);
      // tshark reads it as RTCP: a sender report and the SDES CNAME, from stream 1's SSRC.
      const ts = await new Deno.Command("tshark", {
        args: [
          "-r",
          `${dir}/rtcp.pcap`,
          "-d",
          "udp.port==5005,rtcp",
          "-T",
          "fields",
          "-e",
          "rtcp.pt",
          "-e",
          "rtcp.sdes.text",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const rtcpText = dec.decode(ts.stdout).trim();
      assert.ok(ts.success, `tshark: ${dec.decode(ts.stderr)}`);
      assert.match(rtcpText, /^200,202\tm32-server@/, `tshark: ${rtcpText}`);

      // GStreamer: 1000 packets of 48 frames, 8 channels. Its L24 depayloader maps RTP's
      // default channel order onto GStreamer's positions for 5, 6 and 8 channels
      // (gst-plugins-good rtpchannels.c): for 8 it hands out RTP channels 1 2 3 4 7 8 5 6.
      // The wire order is ours (1…8, checked exactly by ffmpeg below and by
      // tests/aes67_output_test.ts); this is that known permutation, sample by sample.
      const gframes = s24be(await Deno.readFile(`${dir}/gst.raw`), 8);
      assert.ok(gframes.length >= 900 * 48, `${gframes.length} frames from GStreamer`);
      const want = [1, 2, 3, 4, 7, 8, 5, 6];
      const bad = gframes.findIndex((fr) => fr.some((v, c) => v !== want[c]));
      assert.equal(bad, -1, `GStreamer frame ${bad}: ${gframes[bad]}`);

      // ffmpeg: whichever stream's SAP it heard first; every frame is that stream's ids.
      const fraw = await Deno.readFile(`${dir}/ffmpeg.raw`);
      const fs = new Int32Array(fraw.buffer, 0, fraw.length / 4);
      assert.ok(fs.length >= 8 * 48000 * 0.4, `${fs.length} samples from ffmpeg`);
      const k = ((fs[0] >> 8) - 1) / 8;
      assert.ok(Number.isInteger(k) && k >= 0 && k < 4, `first sample ${fs[0] >> 8}`);
      for (let i = 0; i < fs.length; i++) {
        if (fs[i] >> 8 !== 8 * k + (i % 8) + 1) {
          assert.fail(`ffmpeg sample ${i}: ${fs[i] >> 8}, want ${8 * k + (i % 8) + 1}`);
        }
      }

      // The wire: never fragmented (one 1,192-byte IP datagram per packet), TOS = 34 << 2,
      // and the spacing a receiver sees.
      const { gaps, tos, sizes } = pcapPackets(
        await Deno.readFile(`${dir}/out.pcap`),
        "239.69.83.1",
      );
      assert.ok(gaps.length >= 1000, `${gaps.length} gaps`);
      assert.ok(tos.every((b) => b === 34 << 2), `TOS ${[...new Set(tos)]}`);
      assert.ok(sizes.every((s) => s === 20 + 8 + 12 + 48 * 8 * 3), `sizes ${[...new Set(sizes)]}`);
      const steady = gaps.slice(100);
      console.log(
        `aes67 spacing (µs, ${steady.length} gaps, load ${
          Deno.loadavg().map((x) => x.toFixed(2))
        }): ` +
          `p1 ${pct(steady, 1)} p50 ${pct(steady, 50)} p99 ${pct(steady, 99)} max ${
            Math.max(...steady)
          }; ` +
          `under 250 µs: ${steady.filter((x) => x < 250).length}`,
      );
      // Paced, not burst: most packets are one packet time apart, not back to back.
      assert.ok(pct(steady, 50) > 500, `median gap ${pct(steady, 50)} µs: packets leave in bursts`);
      server.kill("SIGTERM");
      await server.status;
    } finally {
      for (const c of children) {
        try {
          c.kill("SIGKILL");
        } catch {
          // ended
        }
        await c.status.catch(() => {});
      }
      await lan.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
