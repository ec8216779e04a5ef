/**
 * Two boxes (docs/protocol.md §13, issue #14 item 3): on a LAN of network
 * namespaces (./helpers/netns.ts), box A plays the console (the `id` test
 * signal) and multicasts it with its AES67 output; box B takes A's streams
 * as its source (`--source aes67 --aes67-session boxA`, found on SAP), and a
 * phone of B receives exactly the channel ids. What B adds is measured from
 * A's capture time (B reads it from A's RTP timestamps, A's media clock) to
 * the phone's socket, beside a phone of A itself.
 */
import assert from "node:assert/strict";
import { createLan, type Lan, lanUnavailable } from "./helpers/netns.ts";
import { type ServerProcess, spawnServer } from "./helpers/process_server.ts";
import { decodePcm, Probe } from "./helpers/probe.ts";

const unavailable = lanUnavailable();
const PORT_A = 18216;
const PORT_B = 18217;
const PASSWORD = "box-to-box-test";

async function box(lan: Lan, i: number, port: number, args: string[]): Promise<ServerProcess> {
  const dir = await Deno.makeTempDir({ prefix: "m32-box-" });
  const srv = await spawnServer({
    prefix: ["ip", "netns", "exec", lan.boxes[i].ns],
    // Each box its own database (with this test's admin password).
    args: ["serve", "--http-port", String(port), "--data-dir", `${dir}/data`, ...args],
    env: { M32_ADMIN_PASSWORD: PASSWORD },
    dir,
  });
  await srv.ready;
  return srv;
}

async function admin(base: string) {
  const r = await fetch(`${base}/api/admin/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ password: PASSWORD }),
  });
  assert.equal(r.status, 200);
  await r.body?.cancel();
  const cookie = r.headers.get("set-cookie")!.split(";")[0];
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { cookie, "content-type": "application/json", origin: base },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
}

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

/** Phone receive time − capture time (ms) of packets from `from` on (capture-time extension). */
function latencies(p: Probe, from: number): number[] {
  const ext = p.packets.find((k) => k.info.captureTimeMs >= 0);
  if (!ext) return [];
  return p.packets.slice(from).map((k) =>
    performance.timeOrigin + k.at -
    (ext.info.captureTimeMs + (((k.info.timestamp - ext.info.timestamp) | 0) * 1000) / 48000)
  ).sort((a, b) => a - b);
}

const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

Deno.test({
  name:
    "box A multicasts its capture over AES67, box B serves it: a phone of B gets every channel id exactly",
  ignore: unavailable !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lan = await createLan(2);
    let a: ServerProcess | null = null;
    let b: ServerProcess | null = null;
    const phones: Probe[] = [];
    try {
      a = await box(lan, 0, PORT_A, ["--source", "test"]);
      const baseA = `http://${lan.boxes[0].address}:${PORT_A}`;
      // B listens before A announces: it hears the first announcement or a repeat (+1 s, +4 s).
      b = await box(lan, 1, PORT_B, ["--source", "aes67", "--aes67-session", "boxA"]);
      const api = await admin(baseA);
      await api("PATCH", "/api/admin/config", {
        aes67: { output: { enabled: true, interface: "eth0", name: "boxA" } },
      });
      const baseB = `http://${lan.boxes[1].address}:${PORT_B}`;
      const ids = [1, 8, 9, 16, 17, 24, 25, 32];
      const onB = await phone(lan, baseB, ids);
      phones.push(onB);
      const onA = await phone(lan, baseA, ids);
      phones.push(onA);
      await onB.waitPackets(4000, 30000).catch((e) => {
        throw new Error(
          `${e.message}: B got ${onB.packets.length}\nA:\n${a!.output()}\nB:\n${b!.output()}`,
        );
      });
      let frames = 0;
      for (const pkt of onB.packets) {
        for (const f of decodePcm(pkt, ids.length, 3)) {
          assert.deepEqual(f, ids, `B's packet seq ${pkt.info.sequence}`);
          frames++;
        }
      }
      assert.ok(frames >= 4000 * 40, `${frames} frames`);
      // B lists A's four streams as SAP announced them, with A's channel names.
      const heard = await (await admin(baseB))("GET", "/api/admin/aes67/sessions");
      assert.deepEqual(
        heard.sessions.map((x: Record<string, unknown>) => [x.name, x.groups, x.channels]),
        [1, 2, 3, 4].map((k) => [`boxA ${k}`, [`239.69.83.${k}`], 8]),
      );
      assert.deepEqual(heard.sessions[3].labels, [
        "CH25",
        "CH26",
        "CH27",
        "CH28",
        "CH29",
        "CH30",
        "CH31",
        "CH32",
      ]);
      const h = await (await fetch(`${baseB}/health`)).json();
      assert.equal(h.source, "aes67");
      assert.equal(h.source_state, "running");
      const lb = latencies(onB, 2000);
      const la = latencies(onA, Math.floor(onA.packets.length / 2));
      const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
      console.log(
        `A's capture → B's phone: p50 ${pct(lb, 0.5).toFixed(2)} ms, p99 ${
          pct(lb, 0.99).toFixed(2)
        } ms (n ${lb.length}); A's capture → A's phone: p50 ${pct(la, 0.5).toFixed(2)} ms, p99 ${
          pct(la, 0.99).toFixed(2)
        } ms (n ${la.length}); load ${load}\n${
          b.output().split("\n").filter((l) => /AES67/.test(l)).join("\n")
        }`,
      );
      // B's phones measure from A's capture instant: B read it from A's media clock.
      assert.match(b.output(), /capture_time_from="the media clock \((UTC|TAI)\)"/);
      assert.ok(pct(lb, 0.5) > 0, "B's phone hears A's audio after A captured it");
    } finally {
      for (const p of phones) await p.close();
      for (const srv of [b, a]) {
        if (!srv) continue;
        await srv.cleanup();
        await Deno.remove(srv.dir, { recursive: true }).catch(() => {});
      }
      await lan.close();
    }
  },
});
