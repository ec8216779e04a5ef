/**
 * The AES67 output on the wire (docs/protocol.md §13), in-process on `lo`
 * (multicast out of lo with IP_MULTICAST_IF reaches receivers on this host
 * that join on lo, exactly once): the groups, L24 samples carrying the
 * channel ids, SSRCs, packet size and spacing, TOS, SAP announcements and
 * their deletion. The independent peers (GStreamer, ffmpeg, ptp4l) are in
 * tests/aes67_peers_test.ts.
 */
import assert from "node:assert/strict";
import { readSapHeader, SAP_GROUP, SAP_PORT } from "../src/aes67/sap_packet.ts";
import { parseRtp } from "../src/rtp/packet.ts";
import { Probe } from "./helpers/probe.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

const LO = "127.0.0.1";

interface Heard {
  data: Uint8Array;
  at: number;
  from: string;
}

/** Joins `group` on lo and keeps every datagram to `port`. */
async function listen(group: string, port: number) {
  const conn = Deno.listenDatagram({
    transport: "udp",
    // Bound to the group: a socket on 0.0.0.0 would get every group any socket joined.
    hostname: group,
    port,
    reuseAddress: true,
    loopback: true,
  });
  await conn.joinMulticastV4(group, LO);
  const heard: Heard[] = [];
  const done = (async () => {
    try {
      for await (const [data, addr] of conn) {
        heard.push({ data, at: performance.now(), from: (addr as Deno.NetAddr).hostname });
      }
    } catch {
      // closed
    }
  })();
  return {
    heard,
    async close() {
      conn.close();
      await done;
    },
  };
}

async function until(pred: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function admin(
  srv: TestServer,
): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const login = await fetch(`${srv.url}/api/admin/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password: "secret-password" }),
  });
  assert.equal(login.status, 200, await login.text());
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  return (path, init = {}) =>
    fetch(`${srv.url}${path}`, {
      ...init,
      headers: { cookie, "content-type": "application/json", origin: srv.url, ...init.headers },
    });
}

Deno.test("AES67 output: 32 channel ids as L24 in 4 streams on consecutive groups, 1 ms packets, SAP then deletion", async () => {
  const srv = await startTestServer({ adminPassword: "secret-password" });
  const groups = ["239.69.83.1", "239.69.83.2", "239.69.83.3", "239.69.83.4"];
  const rx = await Promise.all(groups.map((g) => listen(g, 5004)));
  const sap = await listen(SAP_GROUP, SAP_PORT);
  try {
    const api = await admin(srv);
    const cfg = await (await api("/api/admin/config")).json();
    assert.deepEqual(cfg.aes67, {
      output: {
        enabled: false,
        interface: "",
        multicast_base: "239.69.83.1",
        ptime_us: 1000,
        channels_per_stream: 8,
        ttl: 15,
        dscp: 34,
        name: "m32-server",
      },
      input: { enabled: false, session: "" },
    });
    // A phone streams: turning the output on does not end its session (§13).
    const { probe: phone } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    await phone.waitPackets(10);
    const r = await api("/api/admin/config", {
      method: "PATCH",
      body: JSON.stringify({ aes67: { output: { enabled: true, interface: "lo" } } }),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).sessions_ended, 0);
    const before = phone.packets.length;
    await phone.until("packets after the change", () => phone.packets.length > before + 100);
    assert.equal(phone.closeCode, null);
    assert.ok(!phone.messages.some((m) => JSON.stringify(m).includes("config_changed")));
    await phone.close();
    const bad = await api("/api/admin/config", {
      method: "PATCH",
      body: JSON.stringify({ aes67: { output: { ptime_us: 500 } } }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_value");
    // Capture starts with no phone: the output is a listener of its own.
    // Turning the output on reopens the source once (1 ms periods): its first packets may
    // straddle that; the stream is checked from after it.
    await until(() => rx.every((x) => x.heard.length >= 600), "600 packets per stream");
    await until(() => sap.heard.length >= 4, "4 SAP announcements");
    const health = await (await fetch(`${srv.url}/health`)).json();
    assert.equal(health.source_state, "running");
    assert.equal(health.streaming_clients, 0);
    assert.deepEqual(
      { output: health.aes67.output, streams: health.aes67.streams, clock: health.aes67.clock },
      { output: "sending", streams: 4, clock: health.aes67.clock === "ptp" ? "ptp" : "system" },
    );

    const ssrcs = new Set<number>();
    let lost = 0;
    for (let k = 0; k < 4; k++) {
      const pkts = rx[k].heard.slice(300, 590).map((h) => ({
        ...parseRtp(h.data),
        len: h.data.length,
      }));
      ssrcs.add(pkts[0].ssrc);
      for (let i = 0; i < pkts.length; i++) {
        const p = pkts[i];
        assert.equal(p.payloadType, 96);
        assert.equal(p.ssrc, pkts[0].ssrc, "one SSRC per stream");
        assert.equal(p.len, 12 + 48 * 8 * 3, "1 ms of 8 channels of L24, no extension");
        if (i > 0) {
          const dseq = (p.sequence - pkts[i - 1].sequence) & 0xffff;
          lost += dseq - 1;
          assert.equal(p.timestamp, (pkts[i - 1].timestamp + 48 * dseq) >>> 0);
        }
        const pay = rx[k].heard[300 + i].data.subarray(12);
        for (let f = 0; f < 48; f++) {
          for (let c = 0; c < 8; c++) {
            const o = (f * 8 + c) * 3;
            const v = ((pay[o] << 24) | (pay[o + 1] << 16) | (pay[o + 2] << 8)) >> 8;
            if (v !== 8 * k + c + 1) {
              assert.fail(
                `stream ${k + 1} frame ${f} channel ${c + 1}: ${v}, want ${8 * k + c + 1}`,
              );
            }
          }
        }
      }
    }
    assert.equal(ssrcs.size, 4, "a different SSRC per stream");
    // A busy host may stall this process and overflow its receiving sockets (what arrives is
    // checked above, gaps included: timestamps advance 48 per sequence number); the sender
    // itself must have handed every packet to the kernel.
    if (lost > 0) {
      console.log(`${lost} packets missed by this process's receivers (load ${Deno.loadavg()[0]})`);
    }
    const sent = await (await api("/api/admin/aes67")).json();
    assert.equal(sent.output.send_errors, 0, sent.output.last_send_error);
    assert.equal(sent.output.streams.length, 4);

    const sdps = sap.heard.map((h) => readSapHeader(h.data)).filter((s) => !s.deletion);
    const first = sdps.find((s) => /s=m32-server 1\r\n/.test(s.payload))!;
    assert.ok(first, sdps.map((s) => s.payload).join("\n---\n"));
    assert.equal(first.payloadType, "application/sdp");
    for (
      const line of [
        /^c=IN IP4 239\.69\.83\.1\/15$/m,
        /^m=audio 5004 RTP\/AVP 96$/m,
        /^a=rtpmap:96 L24\/48000\/8$/m,
        /^a=ptime:1$/m,
        /^a=ts-refclk:(ptp=IEEE1588-2008:[0-9A-F-]{23}:\d+|localmac=[0-9A-F-]{17})$/m,
        /^a=mediaclk:direct=\d+$/m,
        /^a=recvonly$/m,
        /^i=CH01, CH02, CH03, CH04, CH05, CH06, CH07, CH08$/m,
      ]
    ) assert.match(first.payload, line);

    const off = await api("/api/admin/config", {
      method: "PATCH",
      body: JSON.stringify({ aes67: { output: { enabled: false } } }),
    });
    assert.equal(off.status, 200);
    await until(
      () => sap.heard.map((h) => readSapHeader(h.data)).filter((s) => s.deletion).length >= 4,
      "4 SAP deletions",
    );
    const deletions = sap.heard.map((h) => readSapHeader(h.data)).filter((s) => s.deletion);
    assert.ok(
      deletions.some((d) => d.hash === first.hash),
      "the deletion names the announced session",
    );
    // No phone and no output: capture stops.
    let state = "";
    for (let i = 0; i < 100 && state !== "idle"; i++) {
      state = (await (await fetch(`${srv.url}/health`)).json()).source_state;
      if (state !== "idle") await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, "idle");
  } finally {
    await Promise.all([...rx, sap].map((x) => x.close()));
    await srv.stop();
  }
});

Deno.test("AES67 output: a server that stops deletes its SAP sessions; a rename re-announces with a new version", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-aes67-" });
  const srv = await startTestServer({ adminPassword: "secret-password", dataDir });
  const sap = await listen(SAP_GROUP, SAP_PORT);
  let stopped = false;
  try {
    srv.ctx.store.patch({
      aes67: { output: { enabled: true, interface: "lo", channels_per_stream: 8, name: "Box A" } },
    });
    const heard = () => sap.heard.map((h) => readSapHeader(h.data));
    await until(() => heard().filter((s) => !s.deletion).length >= 4, "4 announcements");
    const first = heard().find((s) => /^s=Box A 1\r$/m.test(s.payload))!;
    assert.match(first.payload, /^o=- \d+ 1 IN IP4 /m);
    // Renaming channel 2 changes stream 1's description only: deleted, announced anew.
    const channels = srv.ctx.store.getChannels();
    channels[1].name = "Lead Vox";
    srv.ctx.store.setChannels(channels);
    await until(() => heard().some((s) => /^i=CH01, Lead Vox,/m.test(s.payload)), "the rename");
    const renamed = heard().find((s) => /^i=CH01, Lead Vox,/m.test(s.payload))!;
    assert.match(renamed.payload, /^o=- \d+ 2 IN IP4 /m);
    assert.ok(heard().some((s) => s.deletion && s.hash === first.hash), "old stream 1 deleted");
    assert.equal(heard().filter((s) => s.deletion).length, 1, "only the stream that changed");
    // The new description is announced again within seconds (SAP_REPEATS_MS); the old one,
    // deleted, never again (its repeats were still due when it was renamed).
    await until(
      () => heard().filter((s) => !s.deletion && s.hash === renamed.hash).length >= 3,
      "the renamed session announced 3 times",
    );
    const deletedAt = heard().findIndex((s) => s.deletion && s.hash === first.hash);
    assert.ok(
      !heard().slice(deletedAt).some((s) => !s.deletion && s.hash === first.hash),
      "a deleted session is not announced again",
    );
    stopped = true;
    await srv.stop();
    await until(() => heard().filter((s) => s.deletion).length >= 5, "4 deletions at shutdown");
  } finally {
    await sap.close();
    if (!stopped) await srv.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("AES67 output: a receiver that missed a new session's first SAP announcement hears it within seconds", async () => {
  const srv = await startTestServer({ adminPassword: "secret-password" });
  const early = await listen(SAP_GROUP, SAP_PORT);
  let late: Awaited<ReturnType<typeof listen>> | null = null;
  try {
    srv.ctx.store.patch({ aes67: { output: { enabled: true, interface: "lo", name: "Box A" } } });
    const announced = (x: { heard: Heard[] }) =>
      new Set(
        x.heard.map((h) => readSapHeader(h.data)).filter((s) => !s.deletion).map((s) => s.hash),
      );
    await until(() => announced(early).size >= 4, "4 sessions announced");
    // A box that joins the SAP group only now (booted after this one, or its first datagram
    // lost) hears the four sessions well before the next 30 s announcement.
    late = await listen(SAP_GROUP, SAP_PORT);
    await until(() => announced(late!).size >= 4, "the 4 sessions again", 8000);
    assert.deepEqual([...announced(late)].sort(), [...announced(early)].sort());
  } finally {
    await early.close();
    await late?.close();
    await srv.stop();
  }
});

Deno.test("AES67 output: an interface that is not there is an error the admin sees; phones are untouched", async () => {
  const srv = await startTestServer({ adminPassword: "secret-password" });
  try {
    const api = await admin(srv);
    const r = await api("/api/admin/config", {
      method: "PATCH",
      body: JSON.stringify({ aes67: { output: { enabled: true, interface: "nosuch0" } } }),
    });
    assert.equal(r.status, 200);
    const health = await (await fetch(`${srv.url}/health`)).json();
    assert.equal(health.aes67.output, "error");
    assert.equal(health.aes67.streams, 0);
    const view = await (await api("/api/admin/aes67")).json();
    assert.equal(view.output.state, "error");
    assert.match(view.output.error, /nosuch0/);
    assert.ok(view.interfaces.some((i: { name: string }) => i.name === "lo"));
  } finally {
    await srv.stop();
  }
});
