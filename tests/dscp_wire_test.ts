/**
 * What really goes on the wire: tcpdump on the loopback interface shows the
 * IPv4 TOS octet of each datagram (`IP (tos 0xb8, ttl 64, …)`), which must be
 * DSCP << 2 for both sender kinds (docs/protocol.md §5: EF 46 → 0xB8; 0 → 0x0).
 *
 * Needs root (or CAP_NET_RAW) and tcpdump (Debian package `tcpdump`).
 */

import assert from "node:assert/strict";
import { createSender, SENDER_KINDS, type SenderKind } from "../src/net/create_sender.ts";
import { DenoSender } from "../src/net/deno_sender.ts";

const PACKETS = 5;
const SAFETY_MS = 15_000;

async function assertTcpdumpInstalled(): Promise<void> {
  try {
    await new Deno.Command("tcpdump", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error("tcpdump is not installed: run `apt-get install tcpdump` to run this test");
    }
    throw err;
  }
}

/** Starts tcpdump for `count` UDP datagrams to `port` on lo; resolves once it is capturing. */
async function startCapture(port: number, count: number): Promise<() => Promise<string>> {
  const child = new Deno.Command("tcpdump", {
    args: [
      "-i",
      "lo",
      "-n",
      "-v",
      "-l",
      "-c",
      String(count),
      "udp",
      "and",
      "dst",
      "port",
      String(port),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const safety = setTimeout(() => child.kill("SIGKILL"), SAFETY_MS);
  const stdout = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  while (!stderr.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) {
      clearTimeout(safety);
      await child.status;
      throw new Error(`tcpdump did not start capturing: ${stderr}`);
    }
    stderr += value;
  }
  const rest = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) stderr += r.value;
  })();
  return async () => {
    const status = await child.status;
    clearTimeout(safety);
    await rest;
    const out = await stdout;
    assert.ok(status.success, `tcpdump exited with ${status.code}: ${stderr}\n${out}`);
    return out;
  };
}

async function captureTos(kind: SenderKind, dscp: number): Promise<void> {
  await assertTcpdumpInstalled();
  const rx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (rx.addr as Deno.NetAddr).port;
  const reasons: string[] = [];
  const sender = await createSender(
    kind,
    { hostname: "127.0.0.1", port: 0, maxDatagramBytes: 1400, dscp },
    (r) => reasons.push(r),
  );
  try {
    assert.equal(sender.kind, kind, `no fallback expected: ${reasons.join("; ")}`);
    const finished = await startCapture(port, PACKETS);
    const dest = sender.destination("127.0.0.1", port);
    for (let i = 0; i < PACKETS; i++) {
      sender.slot().fill(i, 0, 100);
      sender.commit(100, dest);
      sender.flush(); // one message each: tcpdump on lo would see a GSO batch as one packet
    }
    if (sender instanceof DenoSender) await sender.settled();
    const text = await finished();

    const tos = [...text.matchAll(/\(tos (0x[0-9a-f]+)/g)].map((m) => m[1]);
    const want = `0x${(dscp << 2).toString(16)}`;
    assert.deepEqual(tos, Array(PACKETS).fill(want), `capture:\n${text}`);
    const flows = [...text.matchAll(/127\.0\.0\.1\.(\d+) > 127\.0\.0\.1\.(\d+): UDP, length 100/g)];
    assert.equal(flows.length, PACKETS, `capture:\n${text}`);
    for (const f of flows) assert.deepEqual([Number(f[1]), Number(f[2])], [sender.localPort, port]);
  } finally {
    sender.close();
    rx.close();
  }
}

for (const kind of SENDER_KINDS) {
  Deno.test(`${kind} sender datagrams carry tos 0xb8 on the wire with DSCP 46`, async () => {
    await captureTos(kind, 46);
  });
  Deno.test(`${kind} sender datagrams carry tos 0x0 on the wire with DSCP 0`, async () => {
    await captureTos(kind, 0);
  });
}
