/**
 * CPU cost per datagram of each PacketSender kind.
 *
 * Sends `packets` datagrams of `bytes` bytes round-robin to `destinations`
 * loopback sinks (sockets bound and never read: once their receive buffers
 * fill, the kernel drops at the socket, the same for both kinds), in periods
 * of one datagram per destination followed by `flush()`, as the streaming
 * engine does. Process CPU time (user + system, node:process cpuUsage) is
 * divided by the number of datagrams.
 *
 *   deno run -A bench/sender_bench.ts [--packets 200000]
 */

import { cpuUsage } from "node:process";
import { createSender, SENDER_KINDS, type SenderKind } from "../src/net/create_sender.ts";
import { DenoSender } from "../src/net/deno_sender.ts";
import { SendmmsgSender } from "../src/net/sendmmsg_sender.ts";

export interface SenderBenchResult {
  kind: SenderKind;
  packets: number;
  cpuUsPerPacket: number;
  /** The user-space and kernel parts of cpuUsPerPacket. */
  userUsPerPacket: number;
  systemUsPerPacket: number;
  /** Wall-clock throughput, for orientation only. */
  packetsPerSecond: number;
  errors: number;
  /** sendmmsg calls (sendmmsg kind only, else 0). */
  syscalls: number;
}

export interface SenderBenchOptions {
  packets?: number;
  bytes?: number;
  destinations?: number;
  warmupPackets?: number;
  dscp?: number;
}

async function runOne(
  kind: SenderKind,
  o: Required<SenderBenchOptions>,
): Promise<SenderBenchResult> {
  const sinks = Array.from(
    { length: o.destinations },
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const sender = await createSender(kind, {
    hostname: "127.0.0.1",
    port: 0,
    maxDatagramBytes: o.bytes,
    dscp: o.dscp,
  }, (reason) => {
    throw new Error(`benchmark wanted ${kind}: ${reason}`);
  });
  try {
    const dests = sinks.map((s) => sender.destination("127.0.0.1", (s.addr as Deno.NetAddr).port));
    const send = async (count: number) => {
      for (let sent = 0; sent < count;) {
        for (let d = 0; d < dests.length && sent < count; d++, sent++) {
          const buf = sender.slot();
          buf[0] = 0x80;
          buf[1] = sent & 0x7f;
          sender.commit(o.bytes, dests[d]);
        }
        sender.flush();
        if (sender instanceof DenoSender) await sender.settled();
      }
    };
    await send(o.warmupPackets);
    const before = { ...sender.stats };
    const syscallsBefore = sender instanceof SendmmsgSender ? sender.syscalls : 0;
    const t0 = performance.now();
    const c0 = cpuUsage();
    await send(o.packets);
    const c = cpuUsage(c0);
    const ms = performance.now() - t0;
    return {
      kind: sender.kind as SenderKind,
      packets: sender.stats.packets - before.packets,
      cpuUsPerPacket: (c.user + c.system) / o.packets,
      userUsPerPacket: c.user / o.packets,
      systemUsPerPacket: c.system / o.packets,
      packetsPerSecond: o.packets / (ms / 1000),
      errors: sender.stats.errors - before.errors,
      syscalls: sender instanceof SendmmsgSender ? sender.syscalls - syscallsBefore : 0,
    };
  } finally {
    sender.close();
    for (const s of sinks) s.close();
  }
}

/** Runs every sender kind once, one after the other. */
export async function benchSenders(opts: SenderBenchOptions = {}): Promise<SenderBenchResult[]> {
  const o: Required<SenderBenchOptions> = {
    packets: 200_000,
    bytes: 1200,
    destinations: 20,
    warmupPackets: 10_000,
    dscp: 46,
    ...opts,
  };
  const out: SenderBenchResult[] = [];
  for (const kind of SENDER_KINDS) out.push(await runOne(kind, o));
  return out;
}

export function formatTable(results: SenderBenchResult[]): string {
  const rows = results.map((r) =>
    `${r.kind.padEnd(9)} ${String(r.packets).padStart(8)} ${
      r.cpuUsPerPacket.toFixed(2).padStart(9)
    } ` +
    `${r.userUsPerPacket.toFixed(2).padStart(6)} ${r.systemUsPerPacket.toFixed(2).padStart(6)} ` +
    `${Math.round(r.packetsPerSecond).toString().padStart(9)} ${String(r.errors).padStart(6)} ` +
    `${String(r.syscalls).padStart(8)}`
  );
  const base = results.find((r) => r.kind === "deno");
  const fast = results.find((r) => r.kind === "sendmmsg");
  const ratio = base && fast
    ? `\ndeno / sendmmsg CPU per packet: ${(base.cpuUsPerPacket / fast.cpuUsPerPacket).toFixed(1)}×`
    : "";
  return [
    "kind       packets  µs CPU/pkt  (user    sys)   pkts/s  errors syscalls",
    ...rows,
  ].join("\n") + ratio;
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--packets");
  const packets = i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  if (packets !== undefined && !(Number.isInteger(packets) && packets > 0)) {
    console.error(`--packets needs a positive integer, got ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  console.log(formatTable(await benchSenders(packets ? { packets } : {})));
}
