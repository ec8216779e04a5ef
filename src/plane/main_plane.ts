/** The audio plane on the main thread (./audio_plane.ts): what the server always did. */
import { Aes67Output } from "../aes67/output.ts";
import { realtimeMs } from "../aes67/multicast.ts";
import { Reblocker } from "../audio/reblocker.ts";
import { ResamplingConverter } from "../audio/rate_converter.ts";
import { sourceCandidates } from "../audio/source_factory.ts";
import { createSender } from "../net/create_sender.ts";
import { StreamingEngine } from "../session/engine.ts";
import { OpusLayouts } from "../session/opus_layout.ts";
import type { AudioPlane, AudioPlaneOptions } from "./audio_plane.ts";
import { MAX_NATIVE_PERIOD_FRAMES, PHASE_EARLY_MS } from "./plane_core.ts";
import { getLogger } from "../util/log.ts";
import { openPortPair, rtcpCname } from "../net/rtcp_socket.ts";
import { RtcpAgent } from "../session/rtcp_agent.ts";
import { cryptoRandom } from "../util/clock.ts";

export async function openMainPlane(o: AudioPlaneOptions): Promise<AudioPlane> {
  const { rtp: sender, rtcp } = await openPortPair(
    o.hostname,
    o.port,
    (port) =>
      createSender(o.sender, {
        hostname: o.hostname,
        port,
        maxDatagramBytes: o.cfg.audio.max_datagram_bytes,
        dscp: o.cfg.network.dscp,
      }, (reason) => o.log.warn("udp sender fallback", { reason })),
    o.cfg.network.dscp,
    (msg, fields) => o.log.warn(msg, fields),
  );
  const agent = new RtcpAgent(rtcp, o.clock, cryptoRandom, rtcpCname(o.hostname));
  rtcp.run((data, from) => agent.receive(data, from));
  const opusLayouts = new OpusLayouts();
  const engine = new StreamingEngine({
    sender,
    clock: o.clock,
    extIntervalMs: o.cfg.network.ext_interval_ms,
    maxDatagramBytes: o.cfg.audio.max_datagram_bytes,
    rateConverter: o.resample
      ? (from, to) => new ResamplingConverter(from, to, MAX_NATIVE_PERIOD_FRAMES)
      : undefined,
    opusLayout: o.opus ? opusLayouts.create.bind(opusLayouts) : undefined,
    log: getLogger("engine"),
    onClientError: o.onClientError,
    rtcp: agent,
    pace: true,
  });
  // Paced sending (engine `pace`): a timer for each period's held packets.
  let phaseTimer: ReturnType<typeof setTimeout> | undefined;
  const phase = () => {
    phaseTimer = undefined;
    engine.runDue(o.clock.now() + PHASE_EARLY_MS);
    arm();
  };
  const arm = () => {
    if (phaseTimer !== undefined || !Number.isFinite(engine.nextDueMs)) return;
    phaseTimer = setTimeout(phase, Math.max(0, Math.floor(engine.nextDueMs - o.clock.now())));
  };
  let ptimeMs = o.cfg.audio.ptime_ms;
  const reblocker = Reblocker.packetTimes(() => ptimeMs, (p) => {
    engine.onPeriod(p);
    arm();
  });
  const aes67 = new Aes67Output(o.clock, getLogger("aes67"), realtimeMs);
  return {
    kind: "main",
    engine,
    sender: {
      get kind() {
        return sender.kind;
      },
      get localPort() {
        return sender.localPort;
      },
      get stats() {
        return sender.stats;
      },
      // RTCP is marked like the RTP it reports on.
      setDscp(dscp: number) {
        sender.setDscp(dscp);
        try {
          rtcp.setDscp(dscp);
        } catch (e) {
          o.log.warn("rtcp socket left unmarked", { reason: (e as Error).message });
        }
      },
    },
    sink: (p) => {
      if (aes67.active) aes67.push(p);
      reblocker.push(p);
    },
    configureAes67: (plan) => aes67.configure(plan),
    get aes67Status() {
      return { ...aes67.status };
    },
    candidates(mode, cfg, alsa, createAlsa, aes67Input) {
      reblocker.reset();
      ptimeMs = cfg.audio.ptime_ms;
      const log = getLogger("aes67");
      return sourceCandidates(
        mode,
        cfg,
        o.clock,
        createAlsa ?? alsa.create,
        aes67Input,
        (level, msg, fields) => log[level](msg, fields),
      );
    },
    close() {
      aes67.close();
      if (phaseTimer !== undefined) clearTimeout(phaseTimer);
      sender.close();
      rtcp.close();
      return Promise.resolve();
    },
  };
}
