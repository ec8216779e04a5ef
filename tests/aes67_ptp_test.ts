/**
 * The AES67 output on a PTP clock with a real ptp4l (linuxptp), between two
 * network namespaces on one bridge (./helpers/netns.ts): the box's namespace runs ptp4l as
 * the grandmaster (software timestamps), the other a ptp4l client that must
 * hear that grandmaster. The box reads its ptp4l with pmc and says so in
 * /health (`clock: "ptp"`, the grandmaster's id) and in every SDP
 * (`a=ts-refclk:ptp=IEEE1588-2008:<id>:0`), the same id the client's pmc reports.
 *
 * Not covered here, and why: a client port reaching SLAVE. That needs its
 * ptp4l to discipline CLOCK_REALTIME, which network namespaces share with the
 * host: a test must not steer the machine's clock (the client runs with
 * free_running, so it stays UNCALIBRATED; src/aes67/sdp_build_test.ts checks
 * pmc's SLAVE answer). Skipped where there is no root, ptp4l or namespace.
 */
import assert from "node:assert/strict";
import { ConfigStore } from "../src/config/store.ts";
import { readSapHeader } from "../src/aes67/sap_packet.ts";
import { eui64Text } from "../src/aes67/ptp.ts";
import { createLan, namespacesUnavailable } from "./helpers/netns.ts";
import { ROOT } from "./helpers/process_server.ts";

const dec = new TextDecoder();

async function run(cmd: string[], ok = true): Promise<Deno.CommandOutput> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (ok && !out.success) throw new Error(`${cmd.join(" ")}: ${dec.decode(out.stderr)}`);
  return out;
}

const reason = await namespacesUnavailable(["ptp4l", "pmc", "curl"]);

async function pmc(ns: string, uds: string, ...what: string[]): Promise<string> {
  const args = what.flatMap((w) => [`GET ${w}`]);
  return dec.decode(
    (await run(["ip", "netns", "exec", ns, "pmc", "-u", "-b", "0", "-s", uds, ...args], false))
      .stdout,
  );
}

async function until<T>(what: string, f: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

Deno.test({
  name: "AES67 with ptp4l: the box as grandmaster between namespaces, /health and the SDP name it",
  ignore: reason !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "m32-ptp-" });
    // Box A (the server and the grandmaster) and B (a PTP client), both on eth0.
    const lan = await createLan(2, { defaultRoute: true });
    const [A, B] = lan.boxes.map((b) => b.ns);
    const children: Deno.ChildProcess[] = [];
    const spawn = (cmd: string[], env: Record<string, string> = {}) => {
      const c = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        env,
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).spawn();
      children.push(c);
      return c;
    };
    try {
      const udsA = `${dir}/ptp4l-a`;
      const udsB = `${dir}/ptp4l-b`;
      // Neither ptp4l touches the clock: the grandmaster only serves it, the client runs free.
      await Deno.writeTextFile(
        `${dir}/a.cfg`,
        `[global]\nmasterOnly 1\nannounceReceiptTimeout 2\nlogAnnounceInterval -2\nuds_address ${udsA}\n`,
      );
      await Deno.writeTextFile(
        `${dir}/b.cfg`,
        `[global]\nslaveOnly 1\nfree_running 1\nuds_address ${udsB}\n`,
      );
      spawn(["ip", "netns", "exec", A, "ptp4l", "-i", "eth0", "-S", "-f", `${dir}/a.cfg`]);
      spawn(["ip", "netns", "exec", B, "ptp4l", "-i", "eth0", "-S", "-f", `${dir}/b.cfg`]);
      const gmA = await until("ptp4l A as grandmaster", async () => {
        const t = await pmc(A, udsA, "PORT_DATA_SET", "DEFAULT_DATA_SET");
        const id = /clockIdentity\s+(\S+)/.exec(t)?.[1];
        return /portState\s+MASTER/.test(t) && id ? eui64Text(id) : null;
      });
      const heardByB = await until("ptp4l B hears A", async () => {
        const id = /grandmasterIdentity\s+(\S+)/.exec(await pmc(B, udsB, "PARENT_DATA_SET"))?.[1];
        return id && eui64Text(id) === gmA ? eui64Text(id) : null;
      });
      assert.equal(heardByB, gmA);

      const store = ConfigStore.open(`${dir}/data`);
      store.patch({ aes67: { output: { enabled: true } } });
      store.close();
      // A SAP listener in the box's namespace (the announcement goes out when the output starts).
      const sap = spawn([
        "ip",
        "netns",
        "exec",
        A,
        Deno.execPath(),
        "eval",
        `
        const c = Deno.listenDatagram({ transport: "udp", hostname: "239.255.255.255", port: 9875, reuseAddress: true });
        await c.joinMulticastV4("239.255.255.255", "${lan.boxes[0].address}");
        const [d] = await c.receive();
        await Deno.stdout.write(d);
        Deno.exit(0);
      `,
      ]);
      await new Promise((r) => setTimeout(r, 1500));
      spawn([
        "ip",
        "netns",
        "exec",
        A,
        Deno.execPath(),
        "run",
        "--allow-all",
        "--unstable-net",
        `${ROOT}/main.ts`,
        "serve",
        "--source",
        "test",
        "--http-port",
        "18081",
        "--data-dir",
        `${dir}/data`,
      ], { M32_PTP_UDS: udsA });
      const health = await until("/health with the AES67 output sending", async () => {
        const r = await run([
          "ip",
          "netns",
          "exec",
          A,
          "curl",
          "-s",
          "http://127.0.0.1:18081/health",
        ], false);
        if (!r.success) return null;
        const h = JSON.parse(dec.decode(r.stdout));
        return h.aes67?.output === "sending" ? h : null;
      });
      assert.deepEqual(
        {
          clock: health.aes67.clock,
          grandmaster: health.aes67.grandmaster,
          domain: health.aes67.domain,
        },
        { clock: "ptp", grandmaster: gmA, domain: 0 },
      );
      const pkt = await Promise.race([
        sap.output(),
        new Promise<never>((_, rej) =>
          setTimeout(() => rej(new Error("no SAP announcement")), 20_000)
        ),
      ]);
      const sdp = readSapHeader(pkt.stdout).payload;
      assert.match(sdp, new RegExp(`^a=ts-refclk:ptp=IEEE1588-2008:${gmA}:0\\r$`, "m"));
      assert.match(sdp, /^a=mediaclk:direct=0\r$/m);
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
