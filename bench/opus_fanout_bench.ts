/**
 * Opus costs CPU once per channel, not once per client: the real engine
 * (per-channel mono encoders shared by every client, multistream assembly per
 * distinct channel list, RTP per client, sendmmsg) fed with the `tone` test
 * signal as fast as it goes, so CPU per second of audio is measured directly.
 * 32 channels at 5 ms, 48 kHz, default bitrate; 1 client vs 20 clients.
 * Runnable alone: `deno run --allow-all bench/opus_fanout_bench.ts [seconds]`.
 */
import process from "node:process";
import { TestSignalSource } from "../src/audio/test_signal.ts";
import { createSender } from "../src/net/create_sender.ts";
import { StreamingEngine } from "../src/session/engine.ts";
import { OpusLayouts } from "../src/session/opus_layout.ts";
import { opusFrameMsFor, opusPlanFor } from "../src/codec/opus_plan.ts";
import { ManualClock } from "../src/util/clock.ts";
import { int, num, table } from "./report.ts";

const CHANNELS = Array.from({ length: 32 }, (_, i) => i + 1);
const PTIME_MS = 5;

export interface OpusFanoutRow {
  clients: number;
  audioSeconds: number;
  cpuPercentOfOneCore: number;
  packets: number;
  bytesPerPacket: number;
}

async function runCase(clients: number, audioSeconds: number): Promise<OpusFanoutRow> {
  const receivers = Array.from(
    { length: clients },
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const sender = await createSender("sendmmsg", {
    hostname: "127.0.0.1",
    port: 0,
    maxDatagramBytes: 1400,
    dscp: 46,
  });
  const clock = new ManualClock(1_700_000_000_000);
  const layouts = new OpusLayouts();
  const engine = new StreamingEngine({
    sender,
    clock,
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    opusLayout: layouts.create.bind(layouts),
  });
  const plan = opusPlanFor(48000, 48000);
  receivers.forEach((rx, i) =>
    engine.addClient({
      clientId: `c${i}`,
      hostname: "127.0.0.1",
      port: (rx.addr as Deno.NetAddr).port,
      spec: {
        channels: CHANNELS,
        sampleRate: 48000,
        compression: "opus",
        encoding: "L24",
        opus: {
          bitrate: plan.bitrate,
          maxBandwidth: plan.maxBandwidth,
          frameMs: opusFrameMsFor(PTIME_MS),
        },
      },
      ssrc: i + 1,
      sequence: 0,
      timestampBase: 0,
    })
  );
  const source = new TestSignalSource({
    mode: "tone",
    sampleRate: 48000,
    framesPerPeriod: 240,
    bits: 24,
    clock,
    // Inert: the loop below produces each period by hand on the manual clock.
    ticker: { start: () => {}, stop: () => {} },
  });
  await source.start(engine.onPeriod, { onFault: () => {} });
  const periods = Math.round((audioSeconds * 1000) / PTIME_MS);
  const warm = 200;
  for (let i = 0; i < warm; i++) {
    clock.advance(PTIME_MS);
    source.produceDue(clock.now());
  }
  const bytes0 = sender.stats.bytes, packets0 = sender.stats.packets;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < periods; i++) {
    clock.advance(PTIME_MS);
    source.produceDue(clock.now());
  }
  const cpu = process.cpuUsage(cpu0);
  const packets = sender.stats.packets - packets0;
  await source.stop();
  sender.close();
  receivers.forEach((r) => r.close());
  return {
    clients,
    audioSeconds,
    cpuPercentOfOneCore: ((cpu.user + cpu.system) / 1e6 / audioSeconds) * 100,
    packets,
    bytesPerPacket: (sender.stats.bytes - bytes0) / Math.max(1, packets),
  };
}

export async function benchOpusFanout(audioSeconds = 5): Promise<OpusFanoutRow[]> {
  const rows: OpusFanoutRow[] = [];
  for (const n of [0, 1, 20]) rows.push(await runCase(n, audioSeconds)); // 0: the test signal alone
  return rows;
}

export function formatOpusFanout(rows: readonly OpusFanoutRow[]): string {
  return table(rows, [
    { title: "clients", value: (r) => int(r.clients) },
    { title: "audio s", value: (r) => num(r.audioSeconds, 0) },
    { title: "cpu % of one core", value: (r) => num(r.cpuPercentOfOneCore) },
    { title: "packets", value: (r) => int(r.packets) },
    { title: "bytes/datagram", value: (r) => num(r.bytesPerPacket, 0) },
  ]);
}

if (import.meta.main) {
  const rows = await benchOpusFanout(Number(Deno.args[0] ?? 5));
  console.log("Opus fan-out: 32 ch, 5 ms, 48 kHz, 64 kbit/s per channel (engine, sendmmsg)");
  console.log(formatOpusFanout(rows));
}
