/**
 * CPU per packet of a browser listener's sender (src/listener/channel_sender.ts)
 * beside a copy-per-packet reference in the same run: the engine writes a
 * datagram into `slot()`, `commit()` queues it, `flush()` every fourth packet
 * hands the queue to a channel that keeps the last 512 packets (as an SCTP
 * association keeps its chunks until they are acknowledged). Nothing is sent:
 * this is the JavaScript part of the path, the part that once copied each
 * packet into a new ArrayBuffer (`slice`), 2.8 % of a core at 20 DataChannel
 * listeners, profiled.
 *
 *   deno run -A bench/channel_sender_bench.ts [--packets 2000000] [--rounds 3]
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { ChannelSender, type PacketChannel } from "../src/listener/channel_sender.ts";

/** The way it was before the slab: a copy per packet, queued, sent on flush. */
class CopyPerPacket {
  private readonly buf = new Uint8Array(1400);
  private readonly queue: Uint8Array[] = [];
  constructor(private readonly channel: PacketChannel) {}
  slot(): Uint8Array {
    return this.buf;
  }
  commit(length: number): void {
    this.queue.push(this.buf.slice(0, length));
  }
  flush(): void {
    for (const p of this.queue) this.channel.send(p);
    this.queue.length = 0;
  }
}

interface Sender {
  slot(): Uint8Array;
  commit(length: number, dest: never): void;
  flush(): void;
}

function keeper(): PacketChannel {
  const held: Uint8Array[] = new Array(512);
  let k = 0;
  return {
    open: true,
    bufferedAmount: 0,
    send(bytes) {
      held[k++ & 511] = bytes;
    },
  };
}

/** CPU nanoseconds per packet of `packets` packets of `bytes` bytes. */
function run(sender: Sender, packets: number, bytes: number): number {
  const t0 = cpuUsage();
  for (let i = 0; i < packets; i++) {
    const slot = sender.slot();
    slot[0] = i;
    slot[bytes - 1] = i;
    sender.commit(bytes, undefined as never);
    if ((i & 3) === 3) sender.flush();
  }
  const t = cpuUsage(t0);
  return ((t.user + t.system) * 1000) / packets;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      packets: { type: "string", default: "2000000" },
      rounds: { type: "string", default: "3" },
    },
  });
  const packets = Number(values.packets);
  const rounds = Number(values.rounds);
  console.log("| packet bytes | round | copy per packet (ns) | ChannelSender (ns) | ratio |");
  console.log("|---|---|---|---|---|");
  for (const bytes of [200, 1200]) {
    for (let r = 1; r <= rounds; r++) {
      const copy = run(new CopyPerPacket(keeper()), packets, bytes);
      const ours = run(
        new ChannelSender("datachannel", keeper(), 1400, Number.MAX_SAFE_INTEGER),
        packets,
        bytes,
      );
      console.log(
        `| ${bytes} | ${r} | ${copy.toFixed(0)} | ${ours.toFixed(0)} | ${
          (ours / copy).toFixed(2)
        } |`,
      );
    }
  }
}
